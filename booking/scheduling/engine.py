"""The availability engine: a pure function from a therapist's calendar to open slots.

No database, no HTTP. Instants are integer seconds since the epoch (UTC); working hours are
local wall times expanded per local date in the therapist's zone (see booking.core.timezones for
the policy on skipped and repeated wall times).

Definitions (architecture.md, "Availability"):
- candidate starts step by the slot interval from the start of each working range, in local
  time; the consultation [start, start + duration) lies inside the range, its buffer may not;
- a candidate's blocked range [start, start + duration + buffer) overlaps no busy interval;
  intervals are half-open, so back-to-back is allowed;
- start >= now + minimum notice; the start's local date <= today + horizon days;
- a local date whose live bookings of the type reached the daily cap offers nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from heapq import merge
from typing import NamedTuple
from zoneinfo import ZoneInfo

from booking.core.timezones import edge_to_epoch, local_date, wall_to_epoch

MINUTE = 60
# [start, end) in epoch seconds.
Interval = tuple[int, int]


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Working hours on one weekday (0 = Monday), optionally valid only between two dates."""

    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or day >= self.valid_from)
            and (self.valid_until is None or day <= self.valid_until)
        )


@dataclass(frozen=True, slots=True)
class Policy:
    """The parts of a consultation type's policy that decide which slots exist."""

    duration_minutes: int
    slot_interval_minutes: int = 30
    buffer_after_minutes: int = 0
    min_notice_minutes: int = 0
    horizon_days: int = 60
    daily_cap: int | None = None


@dataclass(frozen=True, slots=True)
class TherapistCalendar:
    """Everything the engine needs to know about one therapist for one window.

    `overrides` maps a local date to its ranges for that day (an empty tuple: closed).
    `busy` holds blocked instant ranges (bookings with their buffer, time off, imported busy
    time), in any order. `booked_starts` holds the start of each live booking of the type in
    question, for the daily cap.
    """

    therapist: str
    timezone: ZoneInfo
    weekly: Sequence[WeeklyHours]
    overrides: Mapping[date, Sequence[tuple[time, time]]] = field(default_factory=dict)
    busy: Sequence[tuple[int, int]] = ()
    booked_starts: Sequence[int] = ()


class Slot(NamedTuple):
    """An open slot; tuples order by start, then therapist, as the API lists them."""

    start: int
    therapist: str
    end: int


def compute_slots(
    calendar: TherapistCalendar,
    policy: Policy,
    window_start: int,
    window_end: int,
    now: int,
) -> list[Slot]:
    """Open slots of `calendar` whose start lies in [window_start, window_end), sorted."""
    earliest = max(window_start, now + policy.min_notice_minutes * MINUTE)
    if earliest >= window_end:
        return []
    last_day = min(
        local_date(window_end - 1, tz := calendar.timezone),
        local_date(now, tz) + timedelta(days=policy.horizon_days),
    )
    name = calendar.therapist
    end = policy.duration_minutes * MINUTE
    return [
        Slot(start, name, start + end)
        for start, _ in _open_starts(calendar, policy, earliest, window_end, last_day)
    ]


class DatedSlot(NamedTuple):
    """An open slot and the therapist-local date whose hours offered it (as an ordinal)."""

    start: int
    therapist: str
    end: int
    day: int


def open_slots(
    calendar: TherapistCalendar, policy: Policy, window_start: int, window_end: int
) -> list[DatedSlot]:
    """`compute_slots` before the clock's part: the slots of the window whatever `now` is.

    `compute_slots(..., now)` is exactly these slots with start >= now + minimum notice and
    a day from local_date(max(window_start, now + notice)) to local_date(now) + horizon
    (`booking.scheduling.cache` applies that cut per request).
    """
    if window_start >= window_end:
        return []
    last_day = local_date(window_end - 1, calendar.timezone)
    name = calendar.therapist
    end = policy.duration_minutes * MINUTE
    return [
        DatedSlot(start, name, start + end, day.toordinal())
        for start, day in _open_starts(calendar, policy, window_start, window_end, last_day)
    ]


def _open_starts(
    calendar: TherapistCalendar, policy: Policy, earliest: int, window_end: int, last_day: date
) -> list[tuple[int, date]]:
    """Starts in [earliest, window_end) offered by local dates up to `last_day`, each with
    the date that offered it, sorted."""
    tz = calendar.timezone
    duration = policy.duration_minutes * MINUTE
    blocked = duration + policy.buffer_after_minutes * MINUTE
    step = policy.slot_interval_minutes * MINUTE
    busy_starts, busy_ends = _disjoint(calendar.busy)
    full_days: Counter[date] = Counter()
    if policy.daily_cap is not None:
        full_days = Counter(local_date(s, tz) for s in calendar.booked_starts)

    by_weekday: dict[int, list[WeeklyHours]] = {}
    for rule in calendar.weekly:
        by_weekday.setdefault(rule.weekday, []).append(rule)

    busy_count = len(busy_starts)
    starts: list[tuple[int, date]] = []
    day = local_date(earliest, tz)
    while day <= last_day:
        if policy.daily_cap is not None and full_days[day] >= policy.daily_cap:
            day += timedelta(days=1)
            continue
        for start_at, end_at in _working_ranges(calendar, by_weekday, day):
            for start in _candidates(day, start_at, end_at, tz, step, duration):
                if start < earliest or start >= window_end:
                    continue
                # The first busy interval ending after `start` is the only one that can overlap.
                i = bisect_right(busy_ends, start)
                if i < busy_count and busy_starts[i] < start + blocked:
                    continue
                starts.append((start, day))
        day += timedelta(days=1)
    return starts


def merge_slots(per_therapist: Iterable[list[Slot]]) -> list[Slot]:
    """One list from several sorted lists, by start then therapist ("any available")."""
    return list(merge(*per_therapist))


def working_intervals(calendar: TherapistCalendar, first: date, last: date) -> list[Interval]:
    """The working time of local dates `first` to `last` as sorted, merged instant ranges,
    less the calendar's busy time: where a consultation may lie, whatever its type."""
    tz = calendar.timezone
    by_weekday: dict[int, list[WeeklyHours]] = {}
    for rule in calendar.weekly:
        by_weekday.setdefault(rule.weekday, []).append(rule)
    working: list[Interval] = []
    day = first
    while day <= last:
        midnight = datetime.combine(day, time(0))
        for low, high in _working_ranges(calendar, by_weekday, day):
            start = edge_to_epoch(midnight + timedelta(minutes=low), tz)
            end = edge_to_epoch(midnight + timedelta(minutes=high), tz)
            if end > start:
                working.append((start, end))
        day += timedelta(days=1)
    starts, ends = _disjoint(working)
    busy_starts, busy_ends = _disjoint(calendar.busy)
    free: list[Interval] = []
    j = 0
    for start, end in zip(starts, ends, strict=True):
        # Busy intervals are disjoint and sorted: walk them once across all working ranges.
        while j < len(busy_ends) and busy_ends[j] <= start:
            j += 1
        cursor = start
        k = j
        while k < len(busy_starts) and busy_starts[k] < end:
            if busy_starts[k] > cursor:
                free.append((cursor, busy_starts[k]))
            cursor = max(cursor, busy_ends[k])
            k += 1
        if cursor < end:
            free.append((cursor, end))
    return free


def fits(start: int, end: int, working: Sequence[Interval]) -> bool:
    """Whether [start, end) lies wholly inside one of the sorted, disjoint `working` ranges."""
    i = bisect_right(working, start, key=lambda r: r[0]) - 1
    return i >= 0 and working[i][0] <= start and end <= working[i][1]


def _disjoint(intervals: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sorted, merged intervals as parallel start and end lists (ends then sorted too)."""
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in sorted(intervals):
        if hi <= lo:
            continue
        if ends and lo <= ends[-1]:
            if hi > ends[-1]:
                ends[-1] = hi
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


def _working_ranges(
    calendar: TherapistCalendar, by_weekday: Mapping[int, list[WeeklyHours]], day: date
) -> list[tuple[int, int]]:
    """The day's working ranges as minutes after local midnight, sorted, overlaps merged.

    A range ending at 00:00 runs to the end of the day (minute 1440).
    """
    if day in calendar.overrides:
        ranges = calendar.overrides[day]
    else:
        ranges = [(w.start, w.end) for w in by_weekday.get(day.weekday(), ()) if w.applies_on(day)]
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted((_minutes(a), _minutes(b) or 1440) for a, b in ranges):
        if hi <= lo:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _candidates(
    day: date, start_minute: int, end_minute: int, tz: ZoneInfo, step: int, duration: int
) -> Iterable[int]:
    """Starts stepping from the range's start whose consultation ends inside the range."""
    midnight = datetime.combine(day, time(0))
    wall_start = midnight + timedelta(minutes=start_minute)
    wall_end = midnight + timedelta(minutes=end_minute)
    aware_start = wall_start.replace(tzinfo=tz)
    offset = aware_start.utcoffset()
    if (
        wall_start.replace(tzinfo=tz, fold=1).utcoffset() == offset
        and wall_end.replace(tzinfo=tz).utcoffset() == offset
        and wall_end.replace(tzinfo=tz, fold=1).utcoffset() == offset
    ):
        # Both edges exist once and share one offset: no clock change inside the range (a
        # zone never changes twice in a day), so wall steps are instant steps.
        range_start = int(aware_start.timestamp())
        range_end = range_start + (end_minute - start_minute) * MINUTE
        return range(range_start, range_end - duration + 1, step)
    range_end = edge_to_epoch(wall_end, tz)
    starts: list[int] = []
    wall = wall_start
    while wall < wall_end:
        start = wall_to_epoch(wall, tz)
        if start is not None and start + duration <= range_end:
            starts.append(start)
        wall += timedelta(seconds=step)
    return starts
