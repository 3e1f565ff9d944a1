"""Property tests for the availability engine (booking.scheduling.engine).

Random zones (several with half-hour offsets, half-hour DST, or clock changes at midnight),
random weekly hours, overrides, busy intervals and policies, with windows biased towards the
2026 clock changes of each zone. The invariants are checked against readings of the zone
computed here from `utcoffset` alone, not through booking.core.timezones, and a brute-force
reading of the definition is compared slot for slot with the engine.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.scheduling.engine import (
    Policy,
    Slot,
    TherapistCalendar,
    WeeklyHours,
    compute_slots,
    merge_slots,
)

ZONES = (
    "America/Toronto",
    "America/Vancouver",
    "America/St_Johns",  # -03:30 / -02:30
    "Europe/London",
    "Europe/Dublin",  # "negative" DST in winter
    "Australia/Sydney",  # southern hemisphere
    "Australia/Lord_Howe",  # +10:30 / +11: a 30-minute clock change
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/Santiago",  # changes at midnight
    "America/Havana",  # spring forward at midnight
    "Asia/Beirut",  # both changes at midnight
    "UTC",
)

MINUTE = 60
HOUR = 3600
DAY = 86400


def examples(count: int) -> settings:
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )


# --- readings of a zone, from utcoffset alone --------------------------------------------------


def offset(seconds: int, tz: ZoneInfo) -> int:
    delta = datetime.fromtimestamp(seconds, UTC).astimezone(tz).utcoffset()
    assert delta is not None
    return int(delta.total_seconds())


def reading(seconds: int, tz: ZoneInfo) -> datetime:
    """The naive wall-clock reading in `tz` at an instant."""
    return datetime(1970, 1, 1) + timedelta(seconds=seconds + offset(seconds, tz))


def naive_seconds(wall: datetime) -> int:
    return int((wall - datetime(1970, 1, 1)).total_seconds())


def nearby_offsets(wall: datetime, tz: ZoneInfo) -> list[int]:
    """The offsets `tz` uses within a day of `wall` (no zone changes twice within 8 hours)."""
    as_utc = naive_seconds(wall)
    return sorted({offset(as_utc + k * HOUR, tz) for k in (-24, -16, -8, 0, 8, 16, 24)})


def occurrences(wall: datetime, tz: ZoneInfo) -> list[int]:
    """Every instant at which the clock in `tz` reads `wall`, in order."""
    as_utc = naive_seconds(wall)
    return sorted(as_utc - o for o in nearby_offsets(wall, tz) if offset(as_utc - o, tz) == o)


def first_occurrence(wall: datetime, tz: ZoneInfo) -> int | None:
    found = occurrences(wall, tz)
    return found[0] if found else None


def edge(wall: datetime, tz: ZoneInfo) -> int:
    """When the clock first reaches `wall`: its first occurrence, or the jump over it."""
    found = first_occurrence(wall, tz)
    if found is not None:
        return found
    # Clock changes fall on whole minutes: walk from the earliest possible instant.
    moment = naive_seconds(wall) - nearby_offsets(wall, tz)[-1]
    while reading(moment, tz) < wall:
        moment += MINUTE
    assert reading(moment - 1, tz) < wall
    return moment


def local_date(seconds: int, tz: ZoneInfo) -> date:
    return reading(seconds, tz).date()


@cache
def clock_changes(name: str) -> tuple[tuple[date, int], ...]:
    """Each 2026 clock change of `name`: the local date and the minute of that day (up to
    1440) that the clock reaches when it changes. Hourly scan, then minute by minute."""
    tz = ZoneInfo(name)
    moment = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
    found: list[tuple[date, int]] = []
    while moment < end:
        if offset(moment + HOUR, tz) != offset(moment, tz):
            change = moment + MINUTE
            while offset(change, tz) == offset(moment, tz):
                change += MINUTE
            last_shown = reading(change - MINUTE, tz)  # the last minute before the change
            found.append((last_shown.date(), last_shown.hour * 60 + last_shown.minute + 1))
        moment += HOUR
    return tuple(found)


def clock_change_dates(name: str) -> tuple[date, ...]:
    return tuple(day for day, _ in clock_changes(name))


ZONES_WITH_CHANGES = tuple(name for name in ZONES if clock_changes(name))


# --- the definition, read literally ----------------------------------------------------------


def minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def day_ranges(calendar: TherapistCalendar, day: date) -> list[tuple[int, int]]:
    """The day's working ranges in minutes after midnight; 00:00 as an end is 24:00.

    Ranges that overlap or touch are one range.
    """
    if day in calendar.overrides:
        pairs = list(calendar.overrides[day])
    else:
        pairs = [
            (w.start, w.end)
            for w in calendar.weekly
            if w.weekday == day.weekday()
            and (w.valid_from is None or w.valid_from <= day)
            and (w.valid_until is None or day <= w.valid_until)
        ]
    spans = sorted((minutes(a), minutes(b) or 24 * 60) for a, b in pairs)
    spans = [(lo, hi) for lo, hi in spans if lo < hi]
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def day_instant_ranges(calendar: TherapistCalendar, day: date) -> list[tuple[int, int]]:
    midnight = datetime.combine(day, time(0))
    tz = calendar.timezone
    return [
        (edge(midnight + timedelta(minutes=lo), tz), edge(midnight + timedelta(minutes=hi), tz))
        for lo, hi in day_ranges(calendar, day)
    ]


def overlaps(lo: int, hi: int, busy: tuple[int, int]) -> bool:
    """Whether [lo, hi) and the half-open busy range share an instant (empty ones share none)."""
    return busy[0] < busy[1] and busy[0] < hi and lo < busy[1]


def reference_slots(
    calendar: TherapistCalendar, policy: Policy, window_start: int, window_end: int, now: int
) -> list[Slot]:
    tz = calendar.timezone
    duration = policy.duration_minutes * MINUTE
    blocked = duration + policy.buffer_after_minutes * MINUTE
    today = local_date(now, tz)
    booked = Counter(local_date(s, tz) for s in calendar.booked_starts)
    found: list[Slot] = []
    day = local_date(window_start, tz) - timedelta(days=1)
    while day <= local_date(window_end, tz) + timedelta(days=1):
        full = policy.daily_cap is not None and booked[day] >= policy.daily_cap
        if not full and day <= today + timedelta(days=policy.horizon_days):
            midnight = datetime.combine(day, time(0))
            for lo, hi in day_ranges(calendar, day):
                range_end = edge(midnight + timedelta(minutes=hi), tz)
                wall = midnight + timedelta(minutes=lo)
                while wall < midnight + timedelta(minutes=hi):
                    start = first_occurrence(wall, tz)
                    if (
                        start is not None
                        and start + duration <= range_end
                        and window_start <= start < window_end
                        and start >= now + policy.min_notice_minutes * MINUTE
                        and not any(overlaps(start, start + blocked, b) for b in calendar.busy)
                    ):
                        found.append(Slot(start, calendar.therapist, start + duration))
                    wall += timedelta(minutes=policy.slot_interval_minutes)
        day += timedelta(days=1)
    return sorted(found)


# --- strategies ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    calendar: TherapistCalendar
    policy: Policy
    window_start: int
    window_end: int
    now: int

    def slots(self) -> list[Slot]:
        return compute_slots(
            self.calendar, self.policy, self.window_start, self.window_end, self.now
        )


QUARTERS_PER_DAY = 24 * 4


def quarter(q: int) -> time:
    """The wall time `q` quarter hours after midnight; 24:00 is written 00:00."""
    return time(q // 4 % 24, q % 4 * 15)


@st.composite
def wall_ranges(draw: st.DrawFn, near: int | None = None) -> tuple[time, time]:
    """Mostly a non-empty range (possibly ending at 00:00), sometimes any pair at all.

    Often a short one in the small hours, where the clocks change, so that its edges fall
    inside skipped or repeated wall times; with `near` (a minute of the day), mostly one
    with both edges within two hours of it.
    """
    if near is not None and draw(st.integers(0, 3)) > 0:
        first, last = sorted(
            min(max(near // 15 + draw(st.integers(-8, 8)), 0), QUARTERS_PER_DAY) for _ in range(2)
        )
        if first == last:
            first, last = (first - 1, last) if last == QUARTERS_PER_DAY else (first, last + 1)
        return quarter(first), quarter(last)
    if draw(st.integers(0, 9)) == 0:
        first, last = draw(st.tuples(*[st.integers(0, QUARTERS_PER_DAY - 1)] * 2))
        return quarter(first), quarter(last)
    if draw(st.integers(0, 2)) == 0:
        first = draw(st.integers(0, 4 * 4))
        return quarter(first), quarter(first + draw(st.integers(1, 4 * 4)))
    first = draw(st.integers(0, QUARTERS_PER_DAY - 1))
    return quarter(first), quarter(first + draw(st.integers(1, QUARTERS_PER_DAY - first)))


policies = st.builds(
    Policy,
    duration_minutes=st.sampled_from([15, 25, 30, 45, 50, 60, 90, 120, 240, 480]),
    slot_interval_minutes=st.sampled_from([5, 7, 10, 15, 20, 30, 45, 60, 90, 120]),
    buffer_after_minutes=st.sampled_from([0, 0, 5, 10, 15, 30, 60]),
    min_notice_minutes=st.one_of(
        st.just(0), st.sampled_from([30, 60, 120, 24 * 60]), st.integers(0, 3 * 24 * 60)
    ),
    horizon_days=st.one_of(st.just(60), st.integers(0, 10)),
    daily_cap=st.one_of(st.none(), st.none(), st.none(), st.integers(0, 3)),
)


@st.composite
def instants_near(draw: st.DrawFn, anchor: int, before: int, after: int) -> int:
    """An instant around `anchor`, usually on a 5-minute grid, sometimes a second off it."""
    base = anchor + draw(st.integers(-before // 300, after // 300)) * 300
    return base + draw(st.sampled_from([0, 0, 0, -1, 1]))


@st.composite
def days_near_clock_changes(draw: st.DrawFn, zone_name: str) -> date:
    """A 2026 date, mostly one within two days of a clock change of the zone."""
    any_day = st.dates(date(2026, 1, 1), date(2026, 12, 31))
    changes = clock_change_dates(zone_name)
    near_change = changes and draw(st.integers(0, 2)) > 0
    day = draw(st.sampled_from(changes) if near_change else any_day)
    return day + timedelta(days=draw(st.sampled_from([0, 0, 0, -1, 1])))


@st.composite
def scenarios(
    draw: st.DrawFn,
    therapist: str = "ana",
    zone_name: str | None = None,
    anchor_day: date | None = None,
    on_a_clock_change: bool = False,
) -> Scenario:
    """A calendar, policy, window and `now`.

    With `on_a_clock_change`, the window covers a day on which the clock changes, and most
    working ranges have edges near the time of the change.
    """
    near: int | None = None
    if on_a_clock_change:
        zone_name = draw(st.sampled_from(ZONES_WITH_CHANGES))
        anchor_day, near = draw(st.sampled_from(clock_changes(zone_name)))
    zone_name = zone_name or draw(st.sampled_from(ZONES))
    tz = ZoneInfo(zone_name)
    anchor_day = anchor_day or draw(days_near_clock_changes(zone_name))
    # Anchor near local midnight of that day; windows then start a little before or after.
    anchor = int(datetime.combine(anchor_day, time(12)).replace(tzinfo=tz).timestamp()) - 12 * HOUR

    def near_day() -> st.SearchStrategy[date]:
        return st.integers(-1, 4).map(lambda k: anchor_day + timedelta(days=k))

    # Weekly hours: a few (weekdays, range) groups, each sometimes valid only for a while.
    weekly: list[WeeklyHours] = []
    for weekdays, (start, end), valid_from, valid_until in draw(
        st.lists(
            st.tuples(
                st.just(frozenset(range(7)))
                if on_a_clock_change
                else st.one_of(
                    st.just(frozenset(range(7))),
                    st.just(frozenset(range(5))),
                    st.frozensets(st.integers(0, 6), min_size=1),
                ),
                wall_ranges(near),
                st.one_of(st.none(), st.none(), st.none(), near_day()),
                st.one_of(st.none(), st.none(), st.none(), near_day()),
            ),
            min_size=1,
            max_size=4,
        )
    ):
        weekly += [WeeklyHours(d, start, end, valid_from, valid_until) for d in sorted(weekdays)]
    overrides = draw(
        st.dictionaries(near_day(), st.lists(wall_ranges(near), max_size=3).map(tuple), max_size=2)
    )
    busy = draw(
        st.lists(
            st.tuples(
                instants_near(anchor, DAY, 4 * DAY),
                st.sampled_from([0, 300, 1800, 3600, 4 * HOUR, -600]),
                st.sampled_from([0, 0, 1, -1]),
            ).map(lambda t: (t[0], t[0] + t[1] + t[2])),
            max_size=5,
        )
    )
    booked = draw(st.lists(instants_near(anchor, DAY, 4 * DAY), max_size=5))
    if on_a_clock_change:
        window_start = draw(instants_near(anchor, 12 * HOUR, 0))
        window_end = window_start + draw(st.integers(DAY + 12 * HOUR, 2 * DAY))
    else:
        window_start = draw(instants_near(anchor, 14 * HOUR, 14 * HOUR))
        window_end = window_start + draw(
            st.one_of(st.integers(DAY, 4 * DAY), st.integers(DAY, 4 * DAY), st.integers(-HOUR, DAY))
        )
    now = draw(
        st.one_of(
            instants_near(window_start, 3 * DAY, 0),
            instants_near(window_start, 3 * DAY, 2 * DAY),
        )
    )
    policy = draw(policies)
    if on_a_clock_change and draw(st.booleans()):
        # Nothing but the working hours and busy time in the way
        policy = replace(policy, min_notice_minutes=0, horizon_days=60, daily_cap=None)
        now = min(now, window_start)
    calendar = TherapistCalendar(
        therapist=therapist,
        timezone=tz,
        weekly=weekly,
        overrides=overrides,
        busy=tuple(busy),
        booked_starts=tuple(booked),
    )
    return Scenario(calendar, policy, window_start, window_end, now)


# --- properties ------------------------------------------------------------------------------


@examples(100)
@given(scenarios())
def test_slots_are_sorted_unique_and_exactly_one_consultation_long(case: Scenario) -> None:
    slots = case.slots()

    starts = [s.start for s in slots]
    assert starts == sorted(set(starts))
    assert all(s.end - s.start == case.policy.duration_minutes * MINUTE for s in slots)
    assert all(s.therapist == case.calendar.therapist for s in slots)


@examples(100)
@given(scenarios())
def test_slots_never_overlap_busy_time_including_the_buffer(case: Scenario) -> None:
    blocked = (case.policy.duration_minutes + case.policy.buffer_after_minutes) * MINUTE

    for slot in case.slots():
        for busy in case.calendar.busy:
            assert not overlaps(slot.start, slot.start + blocked, busy), (slot, busy)


@examples(100)
@given(scenarios())
def test_slots_respect_window_notice_horizon_and_daily_cap(case: Scenario) -> None:
    tz = case.calendar.timezone
    policy = case.policy
    last_day = local_date(case.now, tz) + timedelta(days=policy.horizon_days)
    booked = Counter(local_date(s, tz) for s in case.calendar.booked_starts)

    for slot in case.slots():
        assert case.window_start <= slot.start < case.window_end
        assert slot.start >= case.now + policy.min_notice_minutes * MINUTE
        assert local_date(slot.start, tz) <= last_day
        if policy.daily_cap is not None:
            assert booked[local_date(slot.start, tz)] < policy.daily_cap


@examples(100)
@given(scenarios())
def test_slots_lie_inside_the_working_hours_of_their_local_date(case: Scenario) -> None:
    tz = case.calendar.timezone

    for slot in case.slots():
        day = local_date(slot.start, tz)
        ranges = day_instant_ranges(case.calendar, day)
        assert any(lo <= slot.start and slot.end <= hi for lo, hi in ranges), (slot, ranges)


@examples(100)
@given(scenarios())
def test_slots_start_at_the_first_occurrence_of_a_wall_time_on_the_grid(case: Scenario) -> None:
    tz = case.calendar.timezone
    step = case.policy.slot_interval_minutes

    for slot in case.slots():
        wall = reading(slot.start, tz)
        assert first_occurrence(wall, tz) == slot.start
        assert wall.second == 0
        wall_minute = wall.hour * 60 + wall.minute
        assert any(
            lo <= wall_minute < hi and (wall_minute - lo) % step == 0
            for lo, hi in day_ranges(case.calendar, wall.date())
        ), (slot, wall)


@examples(250)
@given(scenarios())
def test_slots_match_a_brute_force_reading_of_the_definition(case: Scenario) -> None:
    expected = reference_slots(
        case.calendar, case.policy, case.window_start, case.window_end, case.now
    )

    assert case.slots() == expected


@examples(200)
@given(scenarios(on_a_clock_change=True))
def test_clock_change_days_match_a_brute_force_reading_of_the_definition(
    case: Scenario,
) -> None:
    expected = reference_slots(
        case.calendar, case.policy, case.window_start, case.window_end, case.now
    )

    assert case.slots() == expected


@examples(150)
@given(scenarios(), st.data())
def test_adding_busy_time_removes_exactly_the_slots_it_blocks(
    case: Scenario, data: st.DataObject
) -> None:
    before = case.slots()
    blocked = (case.policy.duration_minutes + case.policy.buffer_after_minutes) * MINUTE
    touching = data.draw(st.booleans()) if before else False
    if touching:
        # Busy time touching (or, by a second, overlapping) an offered slot's blocked range
        slot = data.draw(st.sampled_from(before))
        length = data.draw(st.integers(1, 3 * HOUR))
        nudge = data.draw(st.sampled_from([0, 0, -1, 1]))
        start = data.draw(
            st.sampled_from(
                [slot.start + blocked + nudge, slot.start - length + nudge, slot.end + nudge]
            )
        )
    else:
        start = data.draw(instants_near(case.window_start, DAY, 4 * DAY))
        length = data.draw(st.integers(1, 6 * HOUR))
    busy = (start, start + length)

    after = replace(case, calendar=replace(case.calendar, busy=(*case.calendar.busy, busy))).slots()

    assert after == [s for s in before if not overlaps(s.start, s.start + blocked, busy)]


@examples(100)
@given(scenarios(), st.data())
def test_splitting_the_window_splits_the_slots(case: Scenario, data: st.DataObject) -> None:
    whole = case.slots()
    lo, hi = case.window_start, max(case.window_start, case.window_end)
    middle = data.draw(st.integers(lo, hi))

    first = replace(case, window_end=middle).slots()
    second = replace(case, window_start=middle).slots()

    assert first + second == whole


@examples(60)
@given(st.sampled_from(ZONES), st.data())
def test_merging_orders_by_start_then_therapist_and_loses_nothing(
    zone_name: str, data: st.DataObject
) -> None:
    # Given three therapists in one zone, asked about the same window at the same moment
    anchor_day = data.draw(days_near_clock_changes(zone_name))
    cases = [
        data.draw(scenarios(therapist=name, zone_name=zone_name, anchor_day=anchor_day))
        for name in ("cleo", "ana", "ben")
    ]
    window = cases[0]
    lists = [
        compute_slots(c.calendar, c.policy, window.window_start, window.window_end, window.now)
        for c in cases
    ]

    # When
    merged = merge_slots(lists)

    # Then
    assert merged == sorted(s for slots in lists for s in slots)
    keys = [(s.start, s.therapist) for s in merged]
    assert keys == sorted(set(keys))
