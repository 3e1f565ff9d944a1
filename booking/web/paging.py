"""The times pages' paging: the window a query asks for, and two weeks of open times a page.

Shared by the public times page and the reschedule page behind a manage link, and by the
availability API for its query values.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking.core.errors import FieldError, ValidationFailed
from booking.core.timezones import from_epoch, parse_zone, scheduling_dates
from booking.scheduling.services import Availability

WEEK = timedelta(days=7)
# What one page of times spans.
SPAN = 2 * WEEK


@dataclass(frozen=True, slots=True)
class WindowQuery:
    first: date | None
    last: date | None
    timezone: ZoneInfo | None


def parse_window(start: str | None, end: str | None, tz: str | None, now: datetime) -> WindowQuery:
    """The availability window's query values, every malformed or out-of-range one (dates
    beyond SCHEDULING_REACH of `now`) named in a single 422."""
    problems: list[FieldError] = []
    allowed = scheduling_dates(now)

    def parse(value: str | None, field: str) -> date | None:
        if not value:
            return None
        try:
            day = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            day = None
        if day is None:
            problems.append(FieldError(field, "Give the date in the form YYYY-MM-DD."))
        elif day not in allowed:
            problems.append(FieldError(field, allowed.message))
            return None
        return day

    first, last = parse(start, "start"), parse(end, "end")
    timezone = None
    if tz:
        try:
            timezone = parse_zone(tz)
        except ValidationFailed as exc:
            problems.extend(exc.fields)
    if problems:
        message = problems[0].message if len(problems) == 1 else "Some values are not valid."
        raise ValidationFailed(message, problems)
    return WindowQuery(first, last, timezone)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of times: its first and last day, and the first days of the pages before
    (None from today on: no page lies in the past) and after."""

    first: date
    last: date
    earlier: date | None
    later: date

    @classmethod
    def starting(cls, first: date | None, today: date) -> Page:
        """The page from `first` (today when not given)."""
        first = first or today
        earlier = max(first - SPAN, today) if first > today else None
        return cls(first, first + SPAN - timedelta(days=1), earlier, first + SPAN)


def slots_by_day(result: Availability, names: Mapping[str, str]) -> list[tuple[date, list[Any]]]:
    """The slots grouped by local date in the result's zone, for the pages to list."""
    days: OrderedDict[date, list[dict[str, Any]]] = OrderedDict()
    for slot in result.slots:
        local = from_epoch(slot.start, result.timezone)
        days.setdefault(local.date(), []).append(
            {
                "start": local,
                "end": from_epoch(slot.end, result.timezone),
                "therapist": slot.therapist,
                "therapist_name": names.get(slot.therapist, slot.therapist),
            }
        )
    return list(days.items())
