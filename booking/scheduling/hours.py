"""A therapist's hours as they are edited: the weekly pattern, date overrides and time off,
and the checks a change passes before it is saved (booking.scheduling.hours_editor saves it).

Pure: no database. Each problem is named on the field it concerns (a range that ends before
it starts, ranges that overlap, a wall time that does not exist on its date). Wall times are
the therapist's, in their zone; a range ending at 00:00 runs to midnight.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.core.errors import FieldError, ValidationFailed
from booking.core.timezones import exists

# Availability reads time off at most this long (its overlap query is bounded by it).
from booking.scheduling.services import MAX_TIME_OFF_SPAN

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MIDNIGHT = time(0)
# Far more than any working week needs; a form with more is a mistake or an attack.
MAX_RANGES_PER_DAY = 12
NOTE_LENGTH = 500
# How far ahead an override or time off may be set: the booking horizon is a few months.
MAX_AHEAD = timedelta(days=3 * 366)

_CLOCK_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_LOCAL_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def note_context(time_off_id: int) -> str:
    """Associated data binding a time off's encrypted note to its row."""
    return f"time-off:{time_off_id}:note"


# -- what is posted, and what it becomes ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class RangeIn:
    """One posted range of the weekly pattern, as typed: `day` is mon … sun, times HH:MM."""

    day: str
    start: str
    end: str


@dataclass(frozen=True, slots=True)
class TimesIn:
    """One posted range of an override's day, as typed (HH:MM)."""

    start: str
    end: str


@dataclass(frozen=True, slots=True)
class Hours:
    """A range of wall times; `end` 00:00 is midnight at the end of the day."""

    start: time
    end: time

    @property
    def minutes(self) -> tuple[int, int]:
        return _minutes(self.start), _minutes(self.end) or 1440

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class WeeklyRange:
    """A working range on a weekday (0 = Monday)."""

    weekday: int
    hours: Hours

    @property
    def day(self) -> str:
        return WEEKDAYS[self.weekday]


@dataclass(frozen=True, slots=True)
class DayOverride:
    """One local date's own hours: closed (no ranges), or these ranges instead of the week's."""

    day: date
    ranges: tuple[Hours, ...]

    @property
    def closed(self) -> bool:
        return not self.ranges


@dataclass(frozen=True, slots=True)
class TimeOffEntry:
    """Time off from one instant to another, shown in the therapist's zone, with its note."""

    id: int
    starts_at: datetime
    ends_at: datetime
    note: str


@dataclass(frozen=True, slots=True)
class Schedule:
    """A therapist's hours as the editor shows them: the week, and what is still to come of
    their overrides and time off."""

    timezone: ZoneInfo
    week: tuple[WeeklyRange, ...]
    overrides: tuple[DayOverride, ...]
    time_off: tuple[TimeOffEntry, ...]

    def ranges_on(self, weekday: int) -> tuple[Hours, ...]:
        return tuple(r.hours for r in self.week if r.weekday == weekday)


# -- checks (pure) ---------------------------------------------------------------------------


def parse_week(ranges: Sequence[RangeIn]) -> tuple[WeeklyRange, ...]:
    """The weekly pattern the posted ranges describe, sorted; rows without times are
    skipped. Raises one ValidationFailed naming every problem (`ranges[i].day|start|end`)."""
    problems: list[FieldError] = []
    parsed: list[tuple[int, WeeklyRange]] = []
    for index, given in enumerate(ranges):
        # A row without times is an unused one (the form offers spare rows for each day).
        if not (given.start.strip() or given.end.strip()):
            continue
        name = f"ranges[{index}]"
        try:
            weekday = WEEKDAYS.index(given.day.strip().lower())
        except ValueError:
            problems.append(FieldError(f"{name}.day", "Choose a day of the week."))
            weekday = -1
        hours = _hours(given.start, given.end, name, problems)
        if hours is not None and weekday >= 0:
            parsed.append((index, WeeklyRange(weekday, hours)))
    for weekday in range(7):
        day_ranges = [(i, r.hours) for i, r in parsed if r.weekday == weekday]
        if len(day_ranges) > MAX_RANGES_PER_DAY:
            index = day_ranges[MAX_RANGES_PER_DAY][0]
            problems.append(
                FieldError(
                    f"ranges[{index}].day",
                    f"A day may have at most {MAX_RANGES_PER_DAY} ranges.",
                )
            )
        problems.extend(_overlaps(day_ranges, f"on {WEEKDAY_NAMES[weekday]}"))
    _raise(problems, "Some hours need another look.")
    return tuple(sorted((r for _, r in parsed), key=lambda r: (r.weekday, r.hours.minutes)))


def parse_override(
    day: str, closed: bool, ranges: Sequence[TimesIn], tz: ZoneInfo, today: date
) -> DayOverride:
    """A date's override: closed, or its ranges (each wall time must exist on that date in
    `tz`). Raises one ValidationFailed naming every problem (`day`, `closed`,
    `ranges[i].start|end`)."""
    problems: list[FieldError] = []
    found = _date(day, "day", today, problems)
    given = [(i, r) for i, r in enumerate(ranges) if r.start.strip() or r.end.strip()]
    if closed and given:
        problems.append(FieldError("closed", "Either close the day or give its hours, not both."))
    elif not closed and not given:
        problems.append(FieldError("closed", "Give the day's hours, or mark it closed."))
    if len(given) > MAX_RANGES_PER_DAY:
        problems.append(
            FieldError(
                f"ranges[{given[MAX_RANGES_PER_DAY][0]}].start",
                f"A day may have at most {MAX_RANGES_PER_DAY} ranges.",
            )
        )
    parsed: list[tuple[int, Hours]] = []
    for index, times in given:
        name = f"ranges[{index}]"
        hours = _hours(times.start, times.end, name, problems)
        if hours is None:
            continue
        if found is not None:
            gap = _missing_wall_times(found, hours, tz, name)
            if gap:
                problems.extend(gap)
                continue
        parsed.append((index, hours))
    problems.extend(_overlaps(parsed, "on this day"))
    _raise(problems, "The day's hours need another look.")
    if found is None:  # _raise refused a missing date already
        raise ValidationFailed.on("day", "Give the date as YYYY-MM-DD.")
    return DayOverride(found, () if closed else tuple(sorted((h for _, h in parsed), key=_key)))


def parse_time_off(
    starts_at: str, ends_at: str, note: str, tz: ZoneInfo, now: datetime
) -> tuple[datetime, datetime, str]:
    """Time off from one local date-time (`YYYY-MM-DDTHH:MM` in `tz`) to another, and its
    note. Raises one ValidationFailed naming every problem (`starts_at`, `ends_at`, `note`).

    A wall time the clocks skip is refused; one they repeat takes its first occurrence.
    """
    problems: list[FieldError] = []
    start = _local_instant(starts_at, "starts_at", tz, now, problems)
    end = _local_instant(ends_at, "ends_at", tz, now, problems)
    if start is not None and end is not None:
        if end <= start:
            problems.append(FieldError("ends_at", "The time off must end after it starts."))
        elif end - start > MAX_TIME_OFF_SPAN:
            problems.append(
                FieldError("ends_at", "Time off may last at most a year; add another after it.")
            )
    if end is not None and end <= now:
        problems.append(FieldError("ends_at", "This time has passed; give time still to come."))
    cleaned = note.strip()
    if len(cleaned) > NOTE_LENGTH:
        problems.append(
            FieldError("note", f"Please keep the note to {NOTE_LENGTH} characters or fewer.")
        )
    _raise(problems, "The time off needs another look.")
    if start is None or end is None:  # _raise refused these already
        raise ValidationFailed.on("starts_at", "Give the start as YYYY-MM-DDTHH:MM.")
    return start, end, cleaned


def _hours(start: str, end: str, name: str, problems: list[FieldError]) -> Hours | None:
    begins = _clock_time(start, f"{name}.start", problems, end_of_day=False)
    ends = _clock_time(end, f"{name}.end", problems, end_of_day=True)
    if begins is None or ends is None:
        return None
    hours = Hours(begins, ends)
    low, high = hours.minutes
    if high <= low:
        problems.append(FieldError(f"{name}.end", "This range ends before it starts."))
        return None
    return hours


def _clock_time(
    text: str, field: str, problems: list[FieldError], *, end_of_day: bool
) -> time | None:
    """A wall time written HH:MM; an end may be 24:00 (kept as 00:00: midnight)."""
    match = _CLOCK_TIME.fullmatch(text.strip())
    if not text.strip():
        problems.append(FieldError(field, "Give a time, for example 09:30."))
        return None
    if match is not None:
        hour, minute = int(match[1]), int(match[2])
        if end_of_day and (hour, minute) == (24, 0):
            return MIDNIGHT
        if hour < 24 and minute < 60:
            return time(hour, minute)
    problems.append(FieldError(field, "Give a time as HH:MM on a 24-hour clock, e.g. 13:30."))
    return None


def _overlaps(ranges: Sequence[tuple[int, Hours]], where: str) -> list[FieldError]:
    """A problem on each range that overlaps an earlier one of the same day (touching is
    fine: one may end when the next starts)."""
    problems: list[FieldError] = []
    kept: list[Hours] = []
    for index, hours in sorted(ranges, key=lambda item: item[0]):
        low, high = hours.minutes
        clash = next((k for k in kept if low < k.minutes[1] and k.minutes[0] < high), None)
        if clash is not None:
            problems.append(
                FieldError(
                    f"ranges[{index}].start",
                    f"This range overlaps {clash.label} {where}.",
                )
            )
        else:
            kept.append(hours)
    return problems


def _missing_wall_times(day: date, hours: Hours, tz: ZoneInfo, name: str) -> list[FieldError]:
    """A problem on each edge of `hours` that the clocks skip on `day` in `tz`."""
    problems: list[FieldError] = []
    edges = (
        ("start", datetime.combine(day, hours.start)),
        (
            "end",
            datetime.combine(day + timedelta(days=1), MIDNIGHT)
            if hours.end == MIDNIGHT
            else datetime.combine(day, hours.end),
        ),
    )
    for part, wall in edges:
        if not exists(wall, tz):
            problems.append(FieldError(f"{name}.{part}", _gap_message(wall, tz)))
    return problems


def _gap_message(wall: datetime, tz: ZoneInfo) -> str:
    return (
        f"{wall:%H:%M} does not exist on {wall:%Y-%m-%d} in {tz.key}: the clocks go forward "
        "then. Choose a time after the change."
    )


def _date(text: str, field: str, today: date, problems: list[FieldError]) -> date | None:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        problems.append(FieldError(field, "Give the date as YYYY-MM-DD."))
        return None
    if len(text.strip()) != 10:
        problems.append(FieldError(field, "Give the date as YYYY-MM-DD."))
        return None
    if day < today:
        problems.append(FieldError(field, "This date has passed; choose today or a later one."))
        return None
    if day > today + MAX_AHEAD:
        problems.append(FieldError(field, "Choose a date within the next three years."))
        return None
    return day


def _local_instant(
    text: str, field: str, tz: ZoneInfo, now: datetime, problems: list[FieldError]
) -> datetime | None:
    """The instant of a local `YYYY-MM-DDTHH:MM` in `tz`, or None with the problem added."""
    cleaned = text.strip()
    if not _LOCAL_DATE_TIME.fullmatch(cleaned):
        problems.append(FieldError(field, "Give a date and time as YYYY-MM-DDTHH:MM."))
        return None
    try:
        wall = datetime.fromisoformat(cleaned)
    except ValueError:
        problems.append(FieldError(field, "Give a date and time that exist."))
        return None
    today = now.astimezone(tz).date()
    if not today - MAX_AHEAD <= wall.date() <= today + MAX_AHEAD:
        problems.append(FieldError(field, "Choose a time within the next three years."))
        return None
    if not exists(wall, tz):
        problems.append(FieldError(field, _gap_message(wall, tz)))
        return None
    # In UTC: arithmetic and comparison of two times of one zone ignore its offsets.
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _raise(problems: list[FieldError], summary: str) -> None:
    if problems:
        raise ValidationFailed(problems[0].message if len(problems) == 1 else summary, problems)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _key(hours: Hours) -> tuple[int, int]:
    return hours.minutes


def overrides_of(rows: Sequence[dict[str, object]]) -> tuple[DayOverride, ...]:
    """Override rows grouped by date; a closed row wins over any ranges of its date."""
    by_day: dict[date, list[Hours]] = {}
    closed: set[date] = set()
    for row in rows:
        day = row["day"]
        if not isinstance(day, date):
            continue
        ranges = by_day.setdefault(day, [])
        start, end = row["start_time"], row["end_time"]
        if row["closed"]:
            closed.add(day)
        elif isinstance(start, time) and isinstance(end, time):
            ranges.append(Hours(start, end))
    return tuple(
        DayOverride(day, () if day in closed else tuple(sorted(ranges, key=_key)))
        for day, ranges in sorted(by_day.items())
    )
