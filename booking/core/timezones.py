"""The one place that turns wall-clock times into instants and back.

Instants are stored and compared in UTC (integer seconds since the epoch inside the
availability engine); local wall times exist only with an IANA zone beside them. Policy for
wall times that a zone skips or repeats: a time that does not exist (spring forward) is
skipped, an ambiguous one (fall back) takes its first occurrence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from booking.core.errors import ValidationFailed


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; a ValueError for anything that is not one."""
    if not name or name != name.strip() or name.startswith(("/", ".")) or ".." in name:
        raise ValueError(f"unknown time zone {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def parse_zone(name: str, field: str = "tz") -> ZoneInfo:
    """The zone named by a client, or a 422 naming the field."""
    try:
        return zone(name)
    except ValueError:
        raise ValidationFailed.on(
            field, f"'{name}' is not a known IANA time zone name (for example America/Toronto)"
        ) from None


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name worth offering in a picker, sorted."""
    return tuple(
        sorted(
            n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/"))
        )
    )


# How far from today a scheduling date or time may be, each way. The booking horizon is a few
# months, so anything further is a mistake; refusing it also keeps every later step (windows,
# UTC conversion, an offset of up to a day) far from the limits of datetime.
SCHEDULING_REACH = timedelta(days=3653)  # ten years


@dataclass(frozen=True, slots=True)
class DateRange:
    """The dates a field accepts, both ends included."""

    earliest: date
    latest: date

    def __contains__(self, day: date) -> bool:
        return self.earliest <= day <= self.latest

    @property
    def message(self) -> str:
        return f"Give a date from {self.earliest.isoformat()} to {self.latest.isoformat()}."


# Dates people give about their lives: questionnaire answers of type "date".
ANSWER_DATES = DateRange(date(1900, 1, 1), date(2200, 12, 31))


def scheduling_dates(now: datetime) -> DateRange:
    """The dates a scheduling query (availability, times, rescheduling) may name at `now`."""
    today = now.astimezone(UTC).date()
    return DateRange(today - SCHEDULING_REACH, today + SCHEDULING_REACH)


def check_scheduling_instant(instant: datetime, field: str, now: datetime) -> datetime:
    """An aware `instant` within SCHEDULING_REACH of `now`, else a 422 naming `field`.

    Aware datetimes compare without being converted, so even year 1 at +23:59 cannot overflow.
    """
    if not now - SCHEDULING_REACH <= instant <= now + SCHEDULING_REACH:
        allowed = scheduling_dates(now)
        raise ValidationFailed.on(
            field,
            f"Give a time from {allowed.earliest.isoformat()} to {allowed.latest.isoformat()}.",
        )
    return instant


def epoch(dt: datetime) -> int:
    """Whole seconds since the epoch of an aware datetime."""
    return int(dt.timestamp())


def from_epoch(seconds: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(seconds, tz)


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current instant in UTC, to the second (the service's default Clock)."""
    return datetime.now(UTC).replace(microsecond=0)


class LocalClock:
    """Formats many instants as RFC 3339 local times in one zone, fast.

    Offsets are looked up once per UTC day (recomputed per instant on a day that contains a
    clock change: a zone changes at most once a day, so equal offsets at both ends of a day
    mean none in between) and dates once per local day; the rest is arithmetic. Used for the
    long lists of slots an availability answer carries.
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._day_offsets: dict[int, int | None] = {}
        self._dates: dict[int, str] = {}

    def _offset(self, seconds: int) -> int:
        day = seconds // 86400
        cached = self._day_offsets.get(day, -1)
        if cached is None:  # a clock change on this UTC day
            return _offset_at(seconds, self.tz)
        if cached != -1:
            return cached
        first = _offset_at(day * 86400, self.tz)
        last = _offset_at(day * 86400 + 86399, self.tz)
        self._day_offsets[day] = first if first == last else None
        return first if first == last else _offset_at(seconds, self.tz)

    def isoformat(self, seconds: int) -> str:
        offset = self._offset(seconds)
        local = seconds + offset
        day, second_of_day = divmod(local, 86400)
        date_text = self._dates.get(day)
        if date_text is None:
            date_text = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
            self._dates[day] = date_text
        hours, rest = divmod(second_of_day, 3600)
        minutes, secs = divmod(rest, 60)
        sign = "-" if offset < 0 else "+"
        off_h, off_m = divmod(abs(offset) // 60, 60)
        return f"{date_text}T{hours:02d}:{minutes:02d}:{secs:02d}{sign}{off_h:02d}:{off_m:02d}"


def _offset_at(seconds: int, tz: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(seconds, tz).utcoffset()
    if offset is None:  # a ZoneInfo always knows its offset; anything else is a bug
        raise RuntimeError(f"{tz} gives no UTC offset")
    return int(offset.total_seconds())


def rfc3339(dt: datetime) -> str:
    """RFC 3339 with an explicit offset (never 'Z'-less naive text)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.isoformat(timespec="seconds")


def exists(wall: datetime, tz: ZoneInfo) -> bool:
    """Whether a naive wall time occurs in `tz` (false inside a spring-forward gap)."""
    aware = wall.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def wall_to_epoch(wall: datetime, tz: ZoneInfo) -> int | None:
    """The instant of a wall time: first occurrence when ambiguous, None when skipped."""
    if not exists(wall, tz):
        return None
    return int(wall.replace(tzinfo=tz, fold=0).timestamp())


def edge_to_epoch(wall: datetime, tz: ZoneInfo) -> int:
    """The instant at which the clock in `tz` reaches the naive wall time `wall`.

    Used for the edges of working hours: an edge inside a spring-forward gap is the instant of
    the jump itself, the moment the clock passes that reading.
    """
    seconds = wall_to_epoch(wall, tz)
    if seconds is not None:
        return seconds
    # Inside a gap: the offset before the jump places the reading after the jump, the offset
    # after it places it before. The jump lies between; find the second where the offset changes.
    low = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    high = int(wall.replace(tzinfo=tz, fold=0).timestamp())
    before = datetime.fromtimestamp(low, tz).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, tz).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[int, int]:
    """[start of `first`, start of the day after `last`) in `tz`, as epoch seconds."""
    after = last + timedelta(days=1)
    return (
        edge_to_epoch(datetime.combine(first, time(0)), tz),
        edge_to_epoch(datetime.combine(after, time(0)), tz),
    )


def local_date(seconds: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(seconds, tz).date()
