"""Behaviour of the availability engine (booking.scheduling.engine).

Each test reads Given / When / Then. Slots are asserted as exact lists of the therapist's
local ISO times (with their UTC offset), so a reader can check them against a wall clock.

2026 clock changes used below (checked with zoneinfo in test_dst_dates_are_the_ones_assumed):
- America/Toronto, America/Vancouver, America/St_Johns: spring forward Sun 8 March
  02:00 -> 03:00, fall back Sun 1 November 02:00 -> 01:00.
- Europe/London: spring forward Sun 29 March 01:00 -> 02:00, fall back Sun 25 October
  02:00 -> 01:00.
- Australia/Sydney (southern hemisphere): fall back Sun 5 April 03:00 -> 02:00, spring
  forward Sun 4 October 02:00 -> 03:00.
- Asia/Kolkata: +05:30 all year.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.core.timezones import day_bounds, epoch
from booking.scheduling.engine import (
    Policy,
    Slot,
    TherapistCalendar,
    WeeklyHours,
    compute_slots,
    merge_slots,
)

TORONTO = ZoneInfo("America/Toronto")
VANCOUVER = ZoneInfo("America/Vancouver")
LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")
ST_JOHNS = ZoneInfo("America/St_Johns")

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
WEEK = 7 * 24 * 3600
SECOND = 1

# An ordinary week with no clock change anywhere: Monday 15 June 2026 to Sunday 21 June.
MONDAY = date(2026, 6, 15)
TUESDAY = date(2026, 6, 16)
WEDNESDAY = date(2026, 6, 17)

HALF_HOUR = Policy(duration_minutes=30, slot_interval_minutes=30)
HOUR = Policy(duration_minutes=60, slot_interval_minutes=60)
HOUR_EVERY_HALF_HOUR = Policy(duration_minutes=60, slot_interval_minutes=30)


# --- factories -------------------------------------------------------------------------------


def t(text: str) -> time:
    return time.fromisoformat(text)


def hours(
    weekday: int,
    start: str,
    end: str,
    *,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> WeeklyHours:
    return WeeklyHours(weekday, t(start), t(end), valid_from=valid_from, valid_until=valid_until)


def therapist(
    tz: ZoneInfo,
    *weekly: WeeklyHours,
    name: str = "ana",
    overrides: dict[date, tuple[tuple[time, time], ...]] | None = None,
    busy: tuple[tuple[int, int], ...] = (),
    booked_starts: tuple[int, ...] = (),
) -> TherapistCalendar:
    return TherapistCalendar(
        therapist=name,
        timezone=tz,
        weekly=weekly,
        overrides=overrides or {},
        busy=busy,
        booked_starts=booked_starts,
    )


def ranges(*pairs: tuple[str, str]) -> tuple[tuple[time, time], ...]:
    return tuple((t(a), t(b)) for a, b in pairs)


def at(tz: ZoneInfo, wall: str) -> int:
    """The instant of a local wall time such as '2026-06-16 09:00' (first occurrence)."""
    return epoch(datetime.fromisoformat(wall).replace(tzinfo=tz))


def open_slots(
    calendar: TherapistCalendar,
    policy: Policy,
    first_day: date,
    last_day: date | None = None,
    *,
    now: int | None = None,
) -> list[Slot]:
    """Slots in the therapist's local days first_day..last_day; `now` a week before by default."""
    window_start, window_end = day_bounds(first_day, last_day or first_day, calendar.timezone)
    if now is None:
        now = window_start - WEEK
    return compute_slots(calendar, policy, window_start, window_end, now)


def _iso(seconds: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(seconds, tz).isoformat(timespec="minutes")


def starts(slots: list[Slot], tz: ZoneInfo) -> list[str]:
    return [_iso(s.start, tz) for s in slots]


def spans(slots: list[Slot], tz: ZoneInfo) -> list[str]:
    return [f"{_iso(s.start, tz)}/{_iso(s.end, tz)}" for s in slots]


def utc(slots: list[Slot]) -> list[str]:
    return starts(slots, ZoneInfo("UTC"))


# --- the assumptions about 2026 ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "day", "offset_before", "offset_after"),
    [
        (TORONTO, date(2026, 3, 8), -5.0, -4.0),
        (TORONTO, date(2026, 11, 1), -4.0, -5.0),
        (VANCOUVER, date(2026, 3, 8), -8.0, -7.0),
        (LONDON, date(2026, 3, 29), 0.0, 1.0),
        (LONDON, date(2026, 10, 25), 1.0, 0.0),
        (SYDNEY, date(2026, 4, 5), 11.0, 10.0),
        (SYDNEY, date(2026, 10, 4), 10.0, 11.0),
        (ST_JOHNS, date(2026, 3, 8), -3.5, -2.5),
        (ST_JOHNS, date(2026, 11, 1), -2.5, -3.5),
    ],
)
def test_dst_dates_are_the_ones_assumed(
    tz: ZoneInfo, day: date, offset_before: float, offset_after: float
) -> None:
    def offset_hours(seconds: int) -> float:
        offset = datetime.fromtimestamp(seconds, tz).utcoffset()
        assert offset is not None
        return offset.total_seconds() / 3600

    start, end = day_bounds(day, day, tz)

    assert offset_hours(start) == offset_before
    assert offset_hours(end - 1) == offset_after


# --- candidate starts ------------------------------------------------------------------------


def test_starts_step_by_the_interval_and_the_consultation_fits_in_the_range() -> None:
    # Given Tuesdays 09:00-12:00 and a 50-minute consultation offered every 30 minutes
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"))
    policy = Policy(duration_minutes=50, slot_interval_minutes=30)

    # When
    slots = open_slots(calendar, policy, TUESDAY)

    # Then 11:30 is not offered: it would end at 12:20
    assert spans(slots, TORONTO) == [
        "2026-06-16T09:00-04:00/2026-06-16T09:50-04:00",
        "2026-06-16T09:30-04:00/2026-06-16T10:20-04:00",
        "2026-06-16T10:00-04:00/2026-06-16T10:50-04:00",
        "2026-06-16T10:30-04:00/2026-06-16T11:20-04:00",
        "2026-06-16T11:00-04:00/2026-06-16T11:50-04:00",
    ]


def test_the_grid_starts_at_the_start_of_each_range() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:15", "11:00"), hours(TUE, "13:40", "15:00"))

    slots = open_slots(calendar, HALF_HOUR, TUESDAY)

    assert starts(slots, TORONTO) == [
        "2026-06-16T09:15-04:00",
        "2026-06-16T09:45-04:00",
        "2026-06-16T10:15-04:00",
        "2026-06-16T13:40-04:00",
        "2026-06-16T14:10-04:00",
    ]


def test_a_consultation_ending_exactly_at_the_end_of_the_range_is_offered() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "11:00"))

    slots = open_slots(calendar, HOUR_EVERY_HALF_HOUR, TUESDAY)

    assert starts(slots, TORONTO) == [
        "2026-06-16T09:00-04:00",
        "2026-06-16T09:30-04:00",
        "2026-06-16T10:00-04:00",
    ]


def test_a_day_without_working_hours_offers_nothing() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "17:00"))

    assert open_slots(calendar, HOUR, WEDNESDAY) == []


def test_a_range_too_short_for_the_consultation_offers_nothing() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "09:45"))

    assert open_slots(calendar, HOUR, TUESDAY) == []


def test_a_range_ending_at_midnight_runs_to_the_end_of_the_day() -> None:
    calendar = therapist(TORONTO, hours(TUE, "22:00", "00:00"))

    slots = open_slots(calendar, HOUR_EVERY_HALF_HOUR, TUESDAY)

    assert spans(slots, TORONTO) == [
        "2026-06-16T22:00-04:00/2026-06-16T23:00-04:00",
        "2026-06-16T22:30-04:00/2026-06-16T23:30-04:00",
        "2026-06-16T23:00-04:00/2026-06-17T00:00-04:00",
    ]


def test_midnight_to_midnight_is_the_whole_day() -> None:
    calendar = therapist(TORONTO, hours(TUE, "00:00", "00:00"))
    policy = Policy(duration_minutes=240, slot_interval_minutes=240)

    slots = open_slots(calendar, policy, TUESDAY)

    assert starts(slots, TORONTO) == [
        "2026-06-16T00:00-04:00",
        "2026-06-16T04:00-04:00",
        "2026-06-16T08:00-04:00",
        "2026-06-16T12:00-04:00",
        "2026-06-16T16:00-04:00",
        "2026-06-16T20:00-04:00",
    ]


def test_overlapping_weekly_ranges_are_merged_without_duplicates() -> None:
    # Given two overlapping ranges and an exact duplicate of one of them
    calendar = therapist(
        TORONTO,
        hours(TUE, "09:00", "11:00"),
        hours(TUE, "10:00", "12:00"),
        hours(TUE, "10:00", "12:00"),
    )

    # When
    slots = open_slots(calendar, HOUR, TUESDAY)

    # Then each start once, on the grid of the merged range 09:00-12:00
    assert starts(slots, TORONTO) == [
        "2026-06-16T09:00-04:00",
        "2026-06-16T10:00-04:00",
        "2026-06-16T11:00-04:00",
    ]


def test_a_range_contained_in_another_adds_nothing() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"), hours(TUE, "09:30", "10:30"))

    slots = open_slots(calendar, HOUR, TUESDAY)

    assert starts(slots, TORONTO) == [
        "2026-06-16T09:00-04:00",
        "2026-06-16T10:00-04:00",
        "2026-06-16T11:00-04:00",
    ]


def test_every_slot_lasts_exactly_the_duration_and_names_its_therapist() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"), name="bea")
    policy = Policy(duration_minutes=50, slot_interval_minutes=60)

    slots = open_slots(calendar, policy, TUESDAY)

    assert slots == [
        Slot(at(TORONTO, "2026-06-16 09:00"), "bea", at(TORONTO, "2026-06-16 09:50")),
        Slot(at(TORONTO, "2026-06-16 10:00"), "bea", at(TORONTO, "2026-06-16 10:50")),
        Slot(at(TORONTO, "2026-06-16 11:00"), "bea", at(TORONTO, "2026-06-16 11:50")),
    ]


# --- spring forward: wall times that do not exist are skipped ---------------------------------


def test_spring_forward_skips_missing_wall_times() -> None:
    # Given Toronto, Sunday 8 March 2026: 02:00 EST jumps to 03:00 EDT
    calendar = therapist(TORONTO, hours(SUN, "01:00", "04:00"))

    # When
    slots = open_slots(calendar, HALF_HOUR, date(2026, 3, 8))

    # Then 02:00 and 02:30 are not offered; 01:30 EST runs into 03:00 EDT (30 real minutes)
    assert spans(slots, TORONTO) == [
        "2026-03-08T01:00-05:00/2026-03-08T01:30-05:00",
        "2026-03-08T01:30-05:00/2026-03-08T03:00-04:00",
        "2026-03-08T03:00-04:00/2026-03-08T03:30-04:00",
        "2026-03-08T03:30-04:00/2026-03-08T04:00-04:00",
    ]


def test_spring_forward_consultations_across_the_jump_last_their_real_duration() -> None:
    calendar = therapist(TORONTO, hours(SUN, "00:00", "05:00"))

    slots = open_slots(calendar, HOUR_EVERY_HALF_HOUR, date(2026, 3, 8))

    assert spans(slots, TORONTO) == [
        "2026-03-08T00:00-05:00/2026-03-08T01:00-05:00",
        "2026-03-08T00:30-05:00/2026-03-08T01:30-05:00",
        "2026-03-08T01:00-05:00/2026-03-08T03:00-04:00",
        "2026-03-08T01:30-05:00/2026-03-08T03:30-04:00",
        "2026-03-08T03:00-04:00/2026-03-08T04:00-04:00",
        "2026-03-08T03:30-04:00/2026-03-08T04:30-04:00",
        "2026-03-08T04:00-04:00/2026-03-08T05:00-04:00",
    ]
    assert all(s.end - s.start == 3600 for s in slots)


def test_spring_forward_range_ending_inside_the_gap_ends_at_the_jump() -> None:
    # Given a range ending at 02:30, a wall time Toronto skips on 8 March
    calendar = therapist(TORONTO, hours(SUN, "00:00", "02:30"))

    # When
    slots = open_slots(calendar, HOUR_EVERY_HALF_HOUR, date(2026, 3, 8))

    # Then the range ends at the jump (03:00 EDT): 01:00 fits exactly, 01:30 would not
    assert spans(slots, TORONTO) == [
        "2026-03-08T00:00-05:00/2026-03-08T01:00-05:00",
        "2026-03-08T00:30-05:00/2026-03-08T01:30-05:00",
        "2026-03-08T01:00-05:00/2026-03-08T03:00-04:00",
    ]


def test_spring_forward_range_starting_inside_the_gap_keeps_its_wall_grid() -> None:
    # Given a range starting at 02:15, inside the gap
    calendar = therapist(TORONTO, hours(SUN, "02:15", "04:00"))

    # When
    slots = open_slots(calendar, HALF_HOUR, date(2026, 3, 8))

    # Then 02:15 and 02:45 do not exist; 03:15 is the first real wall time on the grid
    assert starts(slots, TORONTO) == ["2026-03-08T03:15-04:00"]


def test_spring_forward_range_entirely_inside_the_gap_offers_nothing() -> None:
    calendar = therapist(TORONTO, hours(SUN, "02:00", "02:45"))

    assert open_slots(calendar, HALF_HOUR, date(2026, 3, 8)) == []


def test_spring_forward_in_london() -> None:
    # Given London, Sunday 29 March 2026: 01:00 GMT jumps to 02:00 BST
    calendar = therapist(LONDON, hours(SUN, "00:00", "03:00"))

    slots = open_slots(calendar, HALF_HOUR, date(2026, 3, 29))

    assert spans(slots, LONDON) == [
        "2026-03-29T00:00+00:00/2026-03-29T00:30+00:00",
        "2026-03-29T00:30+00:00/2026-03-29T02:00+01:00",
        "2026-03-29T02:00+01:00/2026-03-29T02:30+01:00",
        "2026-03-29T02:30+01:00/2026-03-29T03:00+01:00",
    ]


def test_spring_forward_in_sydney_is_in_october() -> None:
    # Given Sydney, Sunday 4 October 2026: 02:00 AEST jumps to 03:00 AEDT
    calendar = therapist(SYDNEY, hours(SUN, "01:00", "04:00"))

    slots = open_slots(calendar, HALF_HOUR, date(2026, 10, 4))

    assert spans(slots, SYDNEY) == [
        "2026-10-04T01:00+10:00/2026-10-04T01:30+10:00",
        "2026-10-04T01:30+10:00/2026-10-04T03:00+11:00",
        "2026-10-04T03:00+11:00/2026-10-04T03:30+11:00",
        "2026-10-04T03:30+11:00/2026-10-04T04:00+11:00",
    ]


def test_spring_forward_in_st_johns_keeps_half_hour_offsets() -> None:
    # Given St John's, Sunday 8 March 2026: 02:00 NST (-03:30) jumps to 03:00 NDT (-02:30)
    calendar = therapist(ST_JOHNS, hours(SUN, "01:00", "04:00"))

    slots = open_slots(calendar, HALF_HOUR, date(2026, 3, 8))

    assert spans(slots, ST_JOHNS) == [
        "2026-03-08T01:00-03:30/2026-03-08T01:30-03:30",
        "2026-03-08T01:30-03:30/2026-03-08T03:00-02:30",
        "2026-03-08T03:00-02:30/2026-03-08T03:30-02:30",
        "2026-03-08T03:30-02:30/2026-03-08T04:00-02:30",
    ]
    assert utc(slots) == [
        "2026-03-08T04:30+00:00",
        "2026-03-08T05:00+00:00",
        "2026-03-08T05:30+00:00",
        "2026-03-08T06:00+00:00",
    ]


# --- fall back: repeated wall times take their first occurrence --------------------------------


def test_fall_back_offers_repeated_wall_times_once_at_their_first_occurrence() -> None:
    # Given Toronto, Sunday 1 November 2026: 02:00 EDT falls back to 01:00 EST
    calendar = therapist(TORONTO, hours(SUN, "00:00", "03:00"))

    # When
    slots = open_slots(calendar, HALF_HOUR, date(2026, 11, 1))

    # Then 01:00 and 01:30 are offered once, in EDT; the repeated hour in EST is not offered,
    # and 01:30 EDT lasts its real 30 minutes, ending at 01:00 EST
    assert spans(slots, TORONTO) == [
        "2026-11-01T00:00-04:00/2026-11-01T00:30-04:00",
        "2026-11-01T00:30-04:00/2026-11-01T01:00-04:00",
        "2026-11-01T01:00-04:00/2026-11-01T01:30-04:00",
        "2026-11-01T01:30-04:00/2026-11-01T01:00-05:00",
        "2026-11-01T02:00-05:00/2026-11-01T02:30-05:00",
        "2026-11-01T02:30-05:00/2026-11-01T03:00-05:00",
    ]


def test_fall_back_range_ending_at_a_repeated_wall_time_ends_at_its_first_occurrence() -> None:
    # Given a range ending at 01:30, which Toronto shows twice on 1 November
    calendar = therapist(TORONTO, hours(SUN, "00:00", "01:30"))

    # When
    slots = open_slots(calendar, HOUR_EVERY_HALF_HOUR, date(2026, 11, 1))

    # Then the range ends at 01:30 EDT
    assert spans(slots, TORONTO) == [
        "2026-11-01T00:00-04:00/2026-11-01T01:00-04:00",
        "2026-11-01T00:30-04:00/2026-11-01T01:30-04:00",
    ]


def test_fall_back_range_through_the_repeated_hour_has_its_real_length() -> None:
    # Given 01:00-02:00 on the fall-back day: two real hours (01:00 EDT to 02:00 EST)
    calendar = therapist(TORONTO, hours(SUN, "01:00", "02:00"))
    policy = Policy(duration_minutes=90, slot_interval_minutes=30)

    slots = open_slots(calendar, policy, date(2026, 11, 1))

    assert spans(slots, TORONTO) == [
        "2026-11-01T01:00-04:00/2026-11-01T01:30-05:00",
        "2026-11-01T01:30-04:00/2026-11-01T02:00-05:00",
    ]


def test_fall_back_in_london() -> None:
    # Given London, Sunday 25 October 2026: 02:00 BST falls back to 01:00 GMT
    calendar = therapist(LONDON, hours(SUN, "00:00", "03:00"))

    slots = open_slots(calendar, HALF_HOUR, date(2026, 10, 25))

    assert starts(slots, LONDON) == [
        "2026-10-25T00:00+01:00",
        "2026-10-25T00:30+01:00",
        "2026-10-25T01:00+01:00",
        "2026-10-25T01:30+01:00",
        "2026-10-25T02:00+00:00",
        "2026-10-25T02:30+00:00",
    ]


def test_fall_back_in_sydney_is_in_april() -> None:
    # Given Sydney, Sunday 5 April 2026: 03:00 AEDT falls back to 02:00 AEST
    calendar = therapist(SYDNEY, hours(SUN, "01:00", "04:00"))

    slots = open_slots(calendar, HALF_HOUR, date(2026, 4, 5))

    assert spans(slots, SYDNEY) == [
        "2026-04-05T01:00+11:00/2026-04-05T01:30+11:00",
        "2026-04-05T01:30+11:00/2026-04-05T02:00+11:00",
        "2026-04-05T02:00+11:00/2026-04-05T02:30+11:00",
        "2026-04-05T02:30+11:00/2026-04-05T02:00+10:00",
        "2026-04-05T03:00+10:00/2026-04-05T03:30+10:00",
        "2026-04-05T03:30+10:00/2026-04-05T04:00+10:00",
    ]


def test_fall_back_in_st_johns_keeps_half_hour_offsets() -> None:
    # Given St John's, Sunday 1 November 2026: 02:00 NDT (-02:30) falls back to 01:00 NST
    calendar = therapist(ST_JOHNS, hours(SUN, "00:00", "03:00"))

    slots = open_slots(calendar, HALF_HOUR, date(2026, 11, 1))

    assert starts(slots, ST_JOHNS) == [
        "2026-11-01T00:00-02:30",
        "2026-11-01T00:30-02:30",
        "2026-11-01T01:00-02:30",
        "2026-11-01T01:30-02:30",
        "2026-11-01T02:00-03:30",
        "2026-11-01T02:30-03:30",
    ]
    assert utc(slots) == [
        "2026-11-01T02:30+00:00",
        "2026-11-01T03:00+00:00",
        "2026-11-01T03:30+00:00",
        "2026-11-01T04:00+00:00",
        "2026-11-01T05:30+00:00",
        "2026-11-01T06:00+00:00",
    ]


def test_a_skipped_midnight_starts_the_day_at_the_jump() -> None:
    # Given Havana, where midnight of Sunday 8 March 2026 does not exist (00:00 -> 01:00)
    havana = ZoneInfo("America/Havana")
    calendar = therapist(havana, hours(SAT, "22:00", "00:00"), hours(SUN, "00:00", "02:00"))

    # When
    slots = open_slots(calendar, HOUR_EVERY_HALF_HOUR, date(2026, 3, 7), date(2026, 3, 8))

    # Then Saturday's range ends at the jump, so 23:00 is an hour that ends at 01:00 CDT, and
    # Sunday's first start is 01:00
    assert spans(slots, havana) == [
        "2026-03-07T22:00-05:00/2026-03-07T23:00-05:00",
        "2026-03-07T22:30-05:00/2026-03-07T23:30-05:00",
        "2026-03-07T23:00-05:00/2026-03-08T01:00-04:00",
        "2026-03-08T01:00-04:00/2026-03-08T02:00-04:00",
    ]


def test_a_repeated_last_hour_of_the_day_is_offered_once() -> None:
    # Given Santiago, where midnight ending Saturday 4 April 2026 falls back to 23:00
    santiago = ZoneInfo("America/Santiago")
    calendar = therapist(santiago, hours(SAT, "22:00", "00:00"))

    # When
    slots = open_slots(calendar, HOUR_EVERY_HALF_HOUR, date(2026, 4, 4))

    # Then 23:00 and 23:30 are offered at their first occurrence (-03:00) only
    assert spans(slots, santiago) == [
        "2026-04-04T22:00-03:00/2026-04-04T23:00-03:00",
        "2026-04-04T22:30-03:00/2026-04-04T23:30-03:00",
        "2026-04-04T23:00-03:00/2026-04-04T23:00-04:00",
        "2026-04-04T23:30-03:00/2026-04-04T23:30-04:00",
    ]


def test_the_clock_change_day_offers_wall_times_not_instant_steps() -> None:
    # Given 4-hour slots every 4 hours from midnight on the fall-back day (25 real hours)
    calendar = therapist(TORONTO, hours(SUN, "00:00", "00:00"))
    policy = Policy(duration_minutes=240, slot_interval_minutes=240)

    slots = open_slots(calendar, policy, date(2026, 11, 1))

    # Then starts stay on the local grid 00:00, 04:00, ... though 5 real hours pass at first
    assert starts(slots, TORONTO) == [
        "2026-11-01T00:00-04:00",
        "2026-11-01T04:00-05:00",
        "2026-11-01T08:00-05:00",
        "2026-11-01T12:00-05:00",
        "2026-11-01T16:00-05:00",
        "2026-11-01T20:00-05:00",
    ]


def test_the_day_after_a_clock_change_is_ordinary() -> None:
    calendar = therapist(TORONTO, hours(MON, "09:00", "11:00"))

    slots = open_slots(calendar, HOUR, date(2026, 3, 9))

    assert starts(slots, TORONTO) == ["2026-03-09T09:00-04:00", "2026-03-09T10:00-04:00"]


# --- half-hour offsets ---------------------------------------------------------------------


def test_kolkata_half_hour_offset() -> None:
    calendar = therapist(KOLKATA, hours(TUE, "09:00", "11:00"))

    slots = open_slots(calendar, HOUR_EVERY_HALF_HOUR, TUESDAY)

    assert starts(slots, KOLKATA) == [
        "2026-06-16T09:00+05:30",
        "2026-06-16T09:30+05:30",
        "2026-06-16T10:00+05:30",
    ]
    assert utc(slots) == [
        "2026-06-16T03:30+00:00",
        "2026-06-16T04:00+00:00",
        "2026-06-16T04:30+00:00",
    ]


def test_kolkata_is_unaffected_by_other_zones_clock_changes() -> None:
    calendar = therapist(KOLKATA, hours(SUN, "01:00", "03:00"))

    slots = open_slots(calendar, HALF_HOUR, date(2026, 3, 8))

    assert starts(slots, KOLKATA) == [
        "2026-03-08T01:00+05:30",
        "2026-03-08T01:30+05:30",
        "2026-03-08T02:00+05:30",
        "2026-03-08T02:30+05:30",
    ]


def test_st_johns_ordinary_days_in_winter_and_summer() -> None:
    calendar = therapist(ST_JOHNS, hours(TUE, "09:00", "10:00"))

    winter = open_slots(calendar, HOUR, date(2026, 1, 6))
    summer = open_slots(calendar, HOUR, TUESDAY)

    assert starts(winter, ST_JOHNS) == ["2026-01-06T09:00-03:30"]
    assert utc(winter) == ["2026-01-06T12:30+00:00"]
    assert starts(summer, ST_JOHNS) == ["2026-06-16T09:00-02:30"]
    assert utc(summer) == ["2026-06-16T11:30+00:00"]


# --- a visitor's day in another zone ---------------------------------------------------------


def test_visitor_day_in_london_shows_the_vancouver_therapists_wall_times() -> None:
    # Given a Vancouver therapist working weekdays 09:00-17:00 (PDT, -07:00)
    calendar = therapist(VANCOUVER, *(hours(day, "09:00", "17:00") for day in range(MON, SAT)))
    # and a visitor asking for their Tuesday 16 June in London (BST): Mon 16:00 to Tue 16:00 PDT
    window_start, window_end = day_bounds(TUESDAY, TUESDAY, LONDON)

    # When
    slots = compute_slots(calendar, HOUR, window_start, window_end, now=window_start - WEEK)

    # Then the slots sit on the therapist's hour grid; Monday 16:00 PDT is the window's first
    # instant (included) and Tuesday 16:00 PDT its end (excluded)
    assert starts(slots, VANCOUVER) == [
        "2026-06-15T16:00-07:00",
        "2026-06-16T09:00-07:00",
        "2026-06-16T10:00-07:00",
        "2026-06-16T11:00-07:00",
        "2026-06-16T12:00-07:00",
        "2026-06-16T13:00-07:00",
        "2026-06-16T14:00-07:00",
        "2026-06-16T15:00-07:00",
    ]
    assert starts(slots, LONDON)[0] == "2026-06-16T00:00+01:00"


def test_visitor_day_in_london_while_only_north_america_has_changed_clocks() -> None:
    # Given Tuesday 10 March: Vancouver already on PDT (-07:00), London still on GMT
    calendar = therapist(VANCOUVER, hours(MON, "14:00", "20:00"), hours(TUE, "09:00", "12:00"))
    window_start, window_end = day_bounds(date(2026, 3, 10), date(2026, 3, 10), LONDON)

    slots = compute_slots(calendar, HOUR, window_start, window_end, now=window_start - WEEK)

    # Then the London day is Mon 17:00 to Tue 17:00 PDT
    assert starts(slots, VANCOUVER) == [
        "2026-03-09T17:00-07:00",
        "2026-03-09T18:00-07:00",
        "2026-03-09T19:00-07:00",
        "2026-03-10T09:00-07:00",
        "2026-03-10T10:00-07:00",
        "2026-03-10T11:00-07:00",
    ]
    assert starts(slots, LONDON) == [
        "2026-03-10T00:00+00:00",
        "2026-03-10T01:00+00:00",
        "2026-03-10T02:00+00:00",
        "2026-03-10T16:00+00:00",
        "2026-03-10T17:00+00:00",
        "2026-03-10T18:00+00:00",
    ]


# --- overrides and validity ------------------------------------------------------------------


def test_an_empty_override_closes_the_day() -> None:
    # Given Tuesdays 09:00-11:00 but the 16th closed
    calendar = therapist(TORONTO, hours(TUE, "09:00", "11:00"), overrides={TUESDAY: ()})

    # When asking for two Tuesdays
    slots = open_slots(calendar, HOUR, TUESDAY, TUESDAY + timedelta(days=7))

    # Then only the next Tuesday is open
    assert starts(slots, TORONTO) == ["2026-06-23T09:00-04:00", "2026-06-23T10:00-04:00"]


def test_an_override_replaces_the_weekly_hours_of_that_day() -> None:
    calendar = therapist(
        TORONTO,
        hours(TUE, "09:00", "12:00"),
        overrides={TUESDAY: ranges(("14:00", "16:00"))},
    )

    slots = open_slots(calendar, HOUR, TUESDAY)

    assert starts(slots, TORONTO) == ["2026-06-16T14:00-04:00", "2026-06-16T15:00-04:00"]


def test_an_override_with_several_ranges() -> None:
    calendar = therapist(
        TORONTO,
        hours(TUE, "09:00", "17:00"),
        overrides={TUESDAY: ranges(("15:00", "16:00"), ("08:00", "09:00"), ("12:30", "13:30"))},
    )

    slots = open_slots(calendar, HALF_HOUR, TUESDAY)

    assert starts(slots, TORONTO) == [
        "2026-06-16T08:00-04:00",
        "2026-06-16T08:30-04:00",
        "2026-06-16T12:30-04:00",
        "2026-06-16T13:00-04:00",
        "2026-06-16T15:00-04:00",
        "2026-06-16T15:30-04:00",
    ]


def test_an_override_opens_a_day_without_weekly_hours() -> None:
    saturday = date(2026, 6, 20)
    calendar = therapist(
        TORONTO, hours(TUE, "09:00", "17:00"), overrides={saturday: ranges(("10:00", "12:00"))}
    )

    slots = open_slots(calendar, HOUR, saturday)

    assert starts(slots, TORONTO) == ["2026-06-20T10:00-04:00", "2026-06-20T11:00-04:00"]


def test_an_override_leaves_other_days_alone() -> None:
    calendar = therapist(
        TORONTO,
        hours(MON, "09:00", "10:00"),
        hours(TUE, "09:00", "10:00"),
        overrides={TUESDAY: ()},
    )

    slots = open_slots(calendar, HOUR, MONDAY, WEDNESDAY)

    assert starts(slots, TORONTO) == ["2026-06-15T09:00-04:00"]


def test_weekly_hours_apply_only_between_valid_from_and_valid_until_inclusive() -> None:
    # Given Monday mornings until 15 June, then Monday afternoons from 22 June
    calendar = therapist(
        TORONTO,
        hours(MON, "09:00", "10:00", valid_until=date(2026, 6, 15)),
        hours(MON, "14:00", "15:00", valid_from=date(2026, 6, 22)),
    )

    # When asking for three Mondays
    slots = open_slots(calendar, HOUR, date(2026, 6, 8), date(2026, 6, 22))

    # Then both bounds are inclusive
    assert starts(slots, TORONTO) == [
        "2026-06-08T09:00-04:00",
        "2026-06-15T09:00-04:00",
        "2026-06-22T14:00-04:00",
    ]


def test_weekly_hours_valid_for_a_single_day() -> None:
    calendar = therapist(
        TORONTO, hours(MON, "09:00", "10:00", valid_from=MONDAY, valid_until=MONDAY)
    )

    slots = open_slots(calendar, HOUR, date(2026, 6, 1), date(2026, 6, 30))

    assert starts(slots, TORONTO) == ["2026-06-15T09:00-04:00"]


def test_weekly_hours_not_yet_valid_offer_nothing() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "10:00", valid_from=WEDNESDAY))

    assert open_slots(calendar, HOUR, TUESDAY) == []


# --- busy time -------------------------------------------------------------------------------


def test_time_off_covering_a_day_closes_it() -> None:
    # Given Monday to Wednesday 09:00-11:00 and Tuesday off (the whole local day)
    calendar = therapist(
        TORONTO,
        *(hours(day, "09:00", "11:00") for day in (MON, TUE, WED)),
        busy=(day_bounds(TUESDAY, TUESDAY, TORONTO),),
    )

    slots = open_slots(calendar, HOUR, MONDAY, WEDNESDAY)

    assert starts(slots, TORONTO) == [
        "2026-06-15T09:00-04:00",
        "2026-06-15T10:00-04:00",
        "2026-06-17T09:00-04:00",
        "2026-06-17T10:00-04:00",
    ]


def test_busy_time_touching_a_slot_does_not_block_it() -> None:
    # Given a booking exactly 10:00-11:00 (half-open)
    busy = ((at(TORONTO, "2026-06-16 10:00"), at(TORONTO, "2026-06-16 11:00")),)
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"), busy=busy)

    # When
    slots = open_slots(calendar, HOUR, TUESDAY)

    # Then back-to-back on both sides
    assert starts(slots, TORONTO) == ["2026-06-16T09:00-04:00", "2026-06-16T11:00-04:00"]


def test_one_second_of_overlap_at_the_end_of_a_slot_blocks_it() -> None:
    busy = ((at(TORONTO, "2026-06-16 10:00") - SECOND, at(TORONTO, "2026-06-16 10:30")),)
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"), busy=busy)

    slots = open_slots(calendar, HOUR, TUESDAY)

    assert starts(slots, TORONTO) == ["2026-06-16T11:00-04:00"]


def test_one_second_of_overlap_at_the_start_of_a_slot_blocks_it() -> None:
    busy = ((at(TORONTO, "2026-06-16 10:30"), at(TORONTO, "2026-06-16 11:00") + SECOND),)
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"), busy=busy)

    slots = open_slots(calendar, HOUR, TUESDAY)

    assert starts(slots, TORONTO) == ["2026-06-16T09:00-04:00"]


def test_busy_time_inside_a_slot_blocks_it() -> None:
    busy = ((at(TORONTO, "2026-06-16 10:20"), at(TORONTO, "2026-06-16 10:25")),)
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"), busy=busy)

    slots = open_slots(calendar, HOUR, TUESDAY)

    assert starts(slots, TORONTO) == ["2026-06-16T09:00-04:00", "2026-06-16T11:00-04:00"]


def test_busy_intervals_in_any_order_overlapping_or_empty() -> None:
    busy = (
        (at(TORONTO, "2026-06-16 13:00"), at(TORONTO, "2026-06-16 14:00")),
        (at(TORONTO, "2026-06-16 09:30"), at(TORONTO, "2026-06-16 10:00")),
        (at(TORONTO, "2026-06-16 09:45"), at(TORONTO, "2026-06-16 10:30")),
        (at(TORONTO, "2026-06-16 11:00"), at(TORONTO, "2026-06-16 11:00")),  # empty
        (at(TORONTO, "2026-06-16 12:00"), at(TORONTO, "2026-06-16 11:30")),  # reversed: empty
    )
    calendar = therapist(TORONTO, hours(TUE, "09:00", "15:00"), busy=busy)

    slots = open_slots(calendar, HALF_HOUR, TUESDAY)

    assert starts(slots, TORONTO) == [
        "2026-06-16T09:00-04:00",
        "2026-06-16T10:30-04:00",
        "2026-06-16T11:00-04:00",
        "2026-06-16T11:30-04:00",
        "2026-06-16T12:00-04:00",
        "2026-06-16T12:30-04:00",
        "2026-06-16T14:00-04:00",
        "2026-06-16T14:30-04:00",
    ]


def test_busy_time_across_the_spring_forward_jump() -> None:
    # Given busy from 01:30 EST to 03:00 EDT: thirty real minutes
    busy = ((at(TORONTO, "2026-03-08 01:30"), at(TORONTO, "2026-03-08 03:00")),)
    calendar = therapist(TORONTO, hours(SUN, "01:00", "04:00"), busy=busy)

    slots = open_slots(calendar, HALF_HOUR, date(2026, 3, 8))

    assert starts(slots, TORONTO) == [
        "2026-03-08T01:00-05:00",
        "2026-03-08T03:00-04:00",
        "2026-03-08T03:30-04:00",
    ]


def test_busy_time_in_the_second_occurrence_of_the_repeated_hour() -> None:
    # Given busy during the second 01:00-02:00 of 1 November (01:00 EST to 02:00 EST)
    busy = ((at(TORONTO, "2026-11-01 01:00") + 3600, at(TORONTO, "2026-11-01 02:00")),)
    calendar = therapist(TORONTO, hours(SUN, "00:00", "03:00"), busy=busy)

    slots = open_slots(calendar, HALF_HOUR, date(2026, 11, 1))

    # Then the first occurrence stays open: 01:30 EDT ends at 01:00 EST, exactly when the busy
    # time begins
    assert starts(slots, TORONTO) == [
        "2026-11-01T00:00-04:00",
        "2026-11-01T00:30-04:00",
        "2026-11-01T01:00-04:00",
        "2026-11-01T01:30-04:00",
        "2026-11-01T02:00-05:00",
        "2026-11-01T02:30-05:00",
    ]
    # and with a 45-minute consultation 01:30 EDT would run into it
    longer = open_slots(
        calendar, Policy(duration_minutes=45, slot_interval_minutes=30), date(2026, 11, 1)
    )
    assert starts(longer, TORONTO) == [
        "2026-11-01T00:00-04:00",
        "2026-11-01T00:30-04:00",
        "2026-11-01T01:00-04:00",
        "2026-11-01T02:00-05:00",
    ]


# --- buffers ---------------------------------------------------------------------------------


def test_busy_time_starting_within_the_buffer_blocks_the_slot() -> None:
    # Given a 15-minute buffer after each consultation and a booking from 10:10
    busy = ((at(TORONTO, "2026-06-16 10:10"), at(TORONTO, "2026-06-16 10:40")),)
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"), busy=busy)
    policy = Policy(duration_minutes=60, slot_interval_minutes=60, buffer_after_minutes=15)

    slots = open_slots(calendar, policy, TUESDAY)

    # Then 09:00 (blocked until 10:15) is not offered
    assert starts(slots, TORONTO) == ["2026-06-16T11:00-04:00"]


def test_busy_time_starting_exactly_when_the_buffer_ends_does_not_block() -> None:
    busy = ((at(TORONTO, "2026-06-16 10:15"), at(TORONTO, "2026-06-16 11:00")),)
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"), busy=busy)
    policy = Policy(duration_minutes=60, slot_interval_minutes=60, buffer_after_minutes=15)

    slots = open_slots(calendar, policy, TUESDAY)

    assert starts(slots, TORONTO) == ["2026-06-16T09:00-04:00", "2026-06-16T11:00-04:00"]


def test_the_buffer_may_run_past_the_end_of_the_working_range() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "11:00"))
    policy = Policy(duration_minutes=60, slot_interval_minutes=60, buffer_after_minutes=30)

    slots = open_slots(calendar, policy, TUESDAY)

    # Then 10:00 is offered although its buffer runs to 11:30; the slot itself ends at 11:00
    assert spans(slots, TORONTO) == [
        "2026-06-16T09:00-04:00/2026-06-16T10:00-04:00",
        "2026-06-16T10:00-04:00/2026-06-16T11:00-04:00",
    ]


def test_busy_time_after_the_working_range_still_meets_the_buffer() -> None:
    busy = ((at(TORONTO, "2026-06-16 11:20"), at(TORONTO, "2026-06-16 12:00")),)
    calendar = therapist(TORONTO, hours(TUE, "09:00", "11:00"), busy=busy)
    policy = Policy(duration_minutes=60, slot_interval_minutes=60, buffer_after_minutes=30)

    slots = open_slots(calendar, policy, TUESDAY)

    assert starts(slots, TORONTO) == ["2026-06-16T09:00-04:00"]


def test_busy_time_before_a_slot_is_not_subject_to_the_buffer() -> None:
    # The buffer only follows a consultation: busy time ending at the slot's start is fine
    busy = ((at(TORONTO, "2026-06-16 08:00"), at(TORONTO, "2026-06-16 09:00")),)
    calendar = therapist(TORONTO, hours(TUE, "09:00", "10:00"), busy=busy)
    policy = Policy(duration_minutes=60, slot_interval_minutes=60, buffer_after_minutes=30)

    slots = open_slots(calendar, policy, TUESDAY)

    assert starts(slots, TORONTO) == ["2026-06-16T09:00-04:00"]


# --- notice, horizon, daily cap ---------------------------------------------------------------


def test_minimum_notice_hides_starts_too_soon() -> None:
    # Given it is 09:10 and two hours' notice is required
    calendar = therapist(TORONTO, hours(TUE, "09:00", "13:00"))
    policy = Policy(duration_minutes=30, slot_interval_minutes=30, min_notice_minutes=120)
    now = at(TORONTO, "2026-06-16 09:10")

    slots = open_slots(calendar, policy, TUESDAY, now=now)

    # Then the first start is the first at or after 11:10
    assert starts(slots, TORONTO) == [
        "2026-06-16T11:30-04:00",
        "2026-06-16T12:00-04:00",
        "2026-06-16T12:30-04:00",
    ]


def test_a_start_exactly_at_the_notice_limit_is_offered() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "13:00"))
    policy = Policy(duration_minutes=60, slot_interval_minutes=60, min_notice_minutes=120)
    now = at(TORONTO, "2026-06-16 09:00")

    slots = open_slots(calendar, policy, TUESDAY, now=now)

    assert starts(slots, TORONTO) == ["2026-06-16T11:00-04:00", "2026-06-16T12:00-04:00"]
    assert open_slots(calendar, policy, TUESDAY, now=now + SECOND)[0].start == at(
        TORONTO, "2026-06-16 12:00"
    )


def test_without_notice_the_past_is_still_not_offered() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"))
    now = at(TORONTO, "2026-06-16 10:00")

    slots = open_slots(calendar, HOUR, TUESDAY, now=now)

    assert starts(slots, TORONTO) == ["2026-06-16T10:00-04:00", "2026-06-16T11:00-04:00"]


def test_notice_past_the_window_offers_nothing() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"))
    policy = Policy(duration_minutes=60, min_notice_minutes=48 * 60)
    now = at(TORONTO, "2026-06-15 08:00")

    assert open_slots(calendar, policy, TUESDAY, now=now) == []


def test_the_horizon_counts_whole_local_days_from_today() -> None:
    # Given it is Monday 1 June 13:00 and bookings open 14 days ahead
    calendar = therapist(TORONTO, *(hours(day, "09:00", "10:00") for day in range(7)))
    policy = Policy(duration_minutes=60, horizon_days=14)
    now = at(TORONTO, "2026-06-01 13:00")

    slots = open_slots(calendar, policy, date(2026, 6, 13), date(2026, 6, 20), now=now)

    # Then the 15th is the last day, regardless of the time of day now
    assert starts(slots, TORONTO) == [
        "2026-06-13T09:00-04:00",
        "2026-06-14T09:00-04:00",
        "2026-06-15T09:00-04:00",
    ]


def test_the_horizon_uses_the_therapists_date_not_utc() -> None:
    # Given it is 23:30 in Toronto on 1 June, already 2 June in UTC, and a one-day horizon
    calendar = therapist(TORONTO, *(hours(day, "09:00", "10:00") for day in range(7)))
    policy = Policy(duration_minutes=60, horizon_days=1)
    now = at(TORONTO, "2026-06-01 23:30")

    slots = open_slots(calendar, policy, date(2026, 6, 1), date(2026, 6, 5), now=now)

    # Then only 2 June (Toronto's tomorrow) is offered
    assert starts(slots, TORONTO) == ["2026-06-02T09:00-04:00"]


def test_the_horizon_in_a_zone_ahead_of_utc() -> None:
    # Given it is 00:30 on 2 June in Kolkata (still 1 June in UTC) and a one-day horizon
    calendar = therapist(KOLKATA, *(hours(day, "09:00", "10:00") for day in range(7)))
    policy = Policy(duration_minutes=60, horizon_days=1)
    now = at(KOLKATA, "2026-06-02 00:30")

    slots = open_slots(calendar, policy, date(2026, 6, 1), date(2026, 6, 5), now=now)

    assert starts(slots, KOLKATA) == ["2026-06-02T09:00+05:30", "2026-06-03T09:00+05:30"]


def test_a_zero_day_horizon_offers_only_today() -> None:
    calendar = therapist(TORONTO, *(hours(day, "09:00", "12:00") for day in range(7)))
    policy = Policy(duration_minutes=60, slot_interval_minutes=60, horizon_days=0)
    now = at(TORONTO, "2026-06-16 09:30")

    slots = open_slots(calendar, policy, TUESDAY, WEDNESDAY, now=now)

    assert starts(slots, TORONTO) == ["2026-06-16T10:00-04:00", "2026-06-16T11:00-04:00"]


def test_a_day_at_its_daily_cap_offers_nothing() -> None:
    # Given a cap of two per day, two bookings on Tuesday and one on Wednesday
    calendar = therapist(
        TORONTO,
        *(hours(day, "09:00", "11:00") for day in (TUE, WED)),
        booked_starts=(
            at(TORONTO, "2026-06-16 13:00"),
            at(TORONTO, "2026-06-16 15:00"),
            at(TORONTO, "2026-06-17 13:00"),
        ),
    )
    policy = Policy(duration_minutes=60, daily_cap=2)

    slots = open_slots(calendar, policy, TUESDAY, WEDNESDAY)

    # Then Tuesday is full and Wednesday still open
    assert starts(slots, TORONTO) == [
        "2026-06-17T09:00-04:00",
        "2026-06-17T09:30-04:00",
        "2026-06-17T10:00-04:00",
    ]


def test_the_daily_cap_counts_bookings_by_the_therapists_local_date() -> None:
    # Given a cap of one and a booking at 21:00 Monday in Toronto (01:00 Tuesday in UTC)
    calendar = therapist(
        TORONTO,
        *(hours(day, "09:00", "10:00") for day in (MON, TUE)),
        booked_starts=(at(TORONTO, "2026-06-15 21:00"),),
    )
    policy = Policy(duration_minutes=60, daily_cap=1)

    slots = open_slots(calendar, policy, MONDAY, TUESDAY)

    # Then Monday is full, Tuesday is not
    assert starts(slots, TORONTO) == ["2026-06-16T09:00-04:00"]


def test_no_daily_cap_ignores_booked_starts() -> None:
    calendar = therapist(
        TORONTO,
        hours(TUE, "09:00", "10:00"),
        booked_starts=tuple(at(TORONTO, "2026-06-16 14:00") for _ in range(5)),
    )

    slots = open_slots(calendar, Policy(duration_minutes=60, daily_cap=None), TUESDAY)

    assert starts(slots, TORONTO) == ["2026-06-16T09:00-04:00"]


# --- the window ------------------------------------------------------------------------------


def test_the_window_includes_its_start_and_excludes_its_end() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"))

    slots = compute_slots(
        calendar,
        HALF_HOUR,
        window_start=at(TORONTO, "2026-06-16 10:00"),
        window_end=at(TORONTO, "2026-06-16 11:00"),
        now=at(TORONTO, "2026-06-01 00:00"),
    )

    assert starts(slots, TORONTO) == ["2026-06-16T10:00-04:00", "2026-06-16T10:30-04:00"]


def test_a_slot_starting_in_the_window_may_end_after_it() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"))

    slots = compute_slots(
        calendar,
        HOUR,
        window_start=at(TORONTO, "2026-06-16 09:30"),
        window_end=at(TORONTO, "2026-06-16 10:00") + SECOND,
        now=at(TORONTO, "2026-06-01 00:00"),
    )

    assert spans(slots, TORONTO) == ["2026-06-16T10:00-04:00/2026-06-16T11:00-04:00"]


def test_an_empty_window_offers_nothing() -> None:
    calendar = therapist(TORONTO, hours(TUE, "09:00", "12:00"))
    instant = at(TORONTO, "2026-06-16 10:00")

    assert compute_slots(calendar, HOUR, instant, instant, now=instant - WEEK) == []


def test_slots_over_several_days_are_sorted() -> None:
    calendar = therapist(
        TORONTO,
        hours(WED, "09:00", "10:00"),
        hours(MON, "15:00", "16:00"),
        hours(MON, "08:00", "09:00"),
    )

    slots = open_slots(calendar, HOUR, MONDAY, WEDNESDAY)

    assert starts(slots, TORONTO) == [
        "2026-06-15T08:00-04:00",
        "2026-06-15T15:00-04:00",
        "2026-06-17T09:00-04:00",
    ]


# --- "any available therapist" -----------------------------------------------------------------


def test_merging_orders_by_start_then_by_therapist() -> None:
    # Given Ana 09:00-11:00 and Ben 10:00-12:00, both in Toronto
    ana = therapist(TORONTO, hours(TUE, "09:00", "11:00"), name="ana")
    ben = therapist(TORONTO, hours(TUE, "10:00", "12:00"), name="ben")

    # When their lists are merged (Ben's given first)
    merged = merge_slots([open_slots(ben, HOUR, TUESDAY), open_slots(ana, HOUR, TUESDAY)])

    # Then the tie at 10:00 is ordered by therapist
    assert [(_iso(s.start, TORONTO), s.therapist) for s in merged] == [
        ("2026-06-16T09:00-04:00", "ana"),
        ("2026-06-16T10:00-04:00", "ana"),
        ("2026-06-16T10:00-04:00", "ben"),
        ("2026-06-16T11:00-04:00", "ben"),
    ]


def test_merging_therapists_in_different_zones_interleaves_by_instant() -> None:
    # Given Ana in Toronto at 12:00 EDT and Cleo in London at 17:00 BST: the same instant
    ana = therapist(TORONTO, hours(TUE, "11:00", "13:00"), name="ana")
    cleo = therapist(LONDON, hours(TUE, "16:30", "17:30"), name="cleo")
    window_start, window_end = day_bounds(TUESDAY, TUESDAY, TORONTO)
    now = window_start - WEEK

    merged = merge_slots(
        [
            compute_slots(cleo, HALF_HOUR, window_start, window_end, now),
            compute_slots(ana, HALF_HOUR, window_start, window_end, now),
        ]
    )

    assert [(_iso(s.start, TORONTO), s.therapist) for s in merged] == [
        ("2026-06-16T11:00-04:00", "ana"),
        ("2026-06-16T11:30-04:00", "ana"),
        ("2026-06-16T11:30-04:00", "cleo"),
        ("2026-06-16T12:00-04:00", "ana"),
        ("2026-06-16T12:00-04:00", "cleo"),
        ("2026-06-16T12:30-04:00", "ana"),
    ]


def test_merging_nothing_or_empty_lists() -> None:
    assert merge_slots([]) == []
    assert merge_slots([[], []]) == []
