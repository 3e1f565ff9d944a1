"""The checks a change of hours passes before it is saved: each problem named on its field."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from booking.core.errors import ValidationFailed
from booking.core.timezones import zone
from booking.scheduling.engine import TherapistCalendar, WeeklyHours, fits, working_intervals
from booking.scheduling.hours import (
    Hours,
    RangeIn,
    TimesIn,
    WeeklyRange,
    parse_override,
    parse_time_off,
    parse_week,
)

TORONTO = zone("America/Toronto")
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
TODAY = date(2026, 12, 2)


def problems(error: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {f.field: f.message for f in error.value.fields}


def test_a_week_takes_several_ranges_a_day_sorted_and_skips_empty_rows() -> None:
    week = parse_week(
        [
            RangeIn("tue", "13:00", "17:00"),
            RangeIn("wed", "", ""),
            RangeIn("tue", "09:00", "12:00"),
            RangeIn("mon", "09:00", "24:00"),
        ]
    )

    assert week == (
        WeeklyRange(0, Hours(time(9), time(0))),
        WeeklyRange(1, Hours(time(9), time(12))),
        WeeklyRange(1, Hours(time(13), time(17))),
    )


def test_ranges_that_touch_are_fine_and_an_empty_week_is_allowed() -> None:
    assert len(parse_week([RangeIn("wed", "09:00", "12:00"), RangeIn("wed", "12:00", "13:00")]))
    assert parse_week([]) == ()


def test_a_range_that_ends_before_it_starts_is_named_on_its_end() -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_week([RangeIn("mon", "09:00", "10:00"), RangeIn("tue", "14:00", "13:00")])

    assert problems(error) == {"ranges[1].end": "This range ends before it starts."}


def test_overlapping_ranges_are_named_on_the_later_one() -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_week([RangeIn("tue", "09:00", "12:00"), RangeIn("tue", "11:30", "14:00")])

    assert problems(error) == {
        "ranges[1].start": "This range overlaps 09:00–12:00 on Tuesday.",
    }


def test_every_problem_of_a_week_is_named_at_once() -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_week(
            [
                RangeIn("someday", "09:00", "10:00"),
                RangeIn("wed", "9am", "10:00"),
                RangeIn("thu", "10:00", ""),
                RangeIn("fri", "25:00", "26:00"),
            ]
        )

    assert set(problems(error)) == {
        "ranges[0].day",
        "ranges[1].start",
        "ranges[2].end",
        "ranges[3].start",
        "ranges[3].end",
    }
    assert error.value.message == "Some hours need another look."


def test_a_day_may_not_hold_an_unbounded_number_of_ranges() -> None:
    ranges = [RangeIn("mon", f"{h:02d}:00", f"{h:02d}:30") for h in range(13)]

    with pytest.raises(ValidationFailed) as error:
        parse_week(ranges)

    assert problems(error) == {"ranges[12].day": "A day may have at most 12 ranges."}


def test_an_override_closes_a_day_or_gives_it_other_ranges() -> None:
    closed = parse_override("2026-12-08", True, [], TORONTO, TODAY)
    opened = parse_override(
        "2026-12-13",
        False,
        [TimesIn("13:00", "16:00"), TimesIn("", ""), TimesIn("09:00", "10:00")],
        TORONTO,
        TODAY,
    )

    assert closed.closed
    assert closed.day == date(2026, 12, 8)
    assert opened.ranges == (Hours(time(9), time(10)), Hours(time(13), time(16)))


def test_an_override_is_closed_or_has_hours_not_both_nor_neither() -> None:
    with pytest.raises(ValidationFailed) as both:
        parse_override("2026-12-08", True, [TimesIn("09:00", "10:00")], TORONTO, TODAY)
    with pytest.raises(ValidationFailed) as neither:
        parse_override("2026-12-08", False, [TimesIn("", "")], TORONTO, TODAY)

    assert problems(both) == {"closed": "Either close the day or give its hours, not both."}
    assert problems(neither) == {"closed": "Give the day's hours, or mark it closed."}


def test_an_override_wall_time_the_clocks_skip_is_named() -> None:
    # Toronto springs forward at 02:00 on 2027-03-14: 02:00-02:59 does not exist that day.
    with pytest.raises(ValidationFailed) as error:
        parse_override(
            "2027-03-14",
            False,
            [TimesIn("02:30", "05:00"), TimesIn("06:00", "07:00")],
            TORONTO,
            TODAY,
        )

    assert problems(error) == {
        "ranges[0].start": "02:30 does not exist on 2027-03-14 in America/Toronto: the clocks "
        "go forward then. Choose a time after the change.",
    }
    # The same wall time exists on the day before.
    assert parse_override("2027-03-13", False, [TimesIn("02:30", "05:00")], TORONTO, TODAY)


def test_an_override_needs_a_real_date_from_today_on() -> None:
    for day, message in (
        ("2026-02-30", "Give the date as YYYY-MM-DD."),
        ("12/08/2026", "Give the date as YYYY-MM-DD."),
        ("2026-12-01", "This date has passed; choose today or a later one."),
        ("2035-01-01", "Choose a date within the next three years."),
    ):
        with pytest.raises(ValidationFailed) as error:
            parse_override(day, True, [], TORONTO, TODAY)
        assert problems(error) == {"day": message}, day


def test_time_off_runs_between_two_local_date_times() -> None:
    start, end, note = parse_time_off(
        "2026-12-10T09:00", "2026-12-11T17:30", "  dentist  ", TORONTO, NOW
    )

    assert start == datetime(2026, 12, 10, 14, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 11, 22, 30, tzinfo=UTC)
    assert note == "dentist"


def test_time_off_that_ends_before_it_starts_or_in_a_gap_is_named() -> None:
    with pytest.raises(ValidationFailed) as reversed_:
        parse_time_off("2026-12-10T09:00", "2026-12-10T08:00", "", TORONTO, NOW)
    with pytest.raises(ValidationFailed) as gap:
        parse_time_off("2027-03-14T02:15", "2027-03-14T09:00", "", TORONTO, NOW)
    with pytest.raises(ValidationFailed) as malformed:
        parse_time_off("tomorrow", "2026-12-10T25:00", "", TORONTO, NOW)

    assert problems(reversed_) == {"ends_at": "The time off must end after it starts."}
    assert set(problems(gap)) == {"starts_at"}
    assert "does not exist on 2027-03-14" in problems(gap)["starts_at"]
    assert problems(malformed) == {
        "starts_at": "Give a date and time as YYYY-MM-DDTHH:MM.",
        "ends_at": "Give a date and time that exist.",
    }


def test_a_repeated_wall_time_takes_its_first_occurrence() -> None:
    # Toronto falls back at 02:00 on 2027-11-07: 01:30 happens twice, first at -04:00.
    start, _, _ = parse_time_off("2027-11-07T01:30", "2027-11-07T09:00", "", TORONTO, NOW)

    assert start == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)


def test_time_off_in_the_past_too_long_or_with_a_long_note_is_refused() -> None:
    with pytest.raises(ValidationFailed) as past:
        parse_time_off("2026-11-01T09:00", "2026-11-02T09:00", "", TORONTO, NOW)
    with pytest.raises(ValidationFailed) as long:
        parse_time_off("2026-12-10T09:00", "2028-01-10T09:00", "x" * 501, TORONTO, NOW)

    assert problems(past) == {"ends_at": "This time has passed; give time still to come."}
    assert set(problems(long)) == {"ends_at", "note"}


def calendar(weekly: list[WeeklyHours], **fields: object) -> TherapistCalendar:
    return TherapistCalendar("ana", TORONTO, weekly, **fields)  # type: ignore[arg-type]


def at(day: date, hour: int, minute: int = 0) -> int:
    return int(datetime.combine(day, time(hour, minute), TORONTO).timestamp())


def test_working_time_joins_touching_ranges_and_days_and_leaves_out_time_off() -> None:
    monday, tuesday = date(2026, 12, 7), date(2026, 12, 8)
    week = [
        WeeklyHours(0, time(9), time(12)),
        WeeklyHours(0, time(12), time(0)),
        WeeklyHours(1, time(0), time(2)),
    ]
    busy = [(at(monday, 10), at(monday, 11))]

    working = working_intervals(calendar(week, busy=busy), monday, tuesday)

    assert working == [(at(monday, 9), at(monday, 10)), (at(monday, 11), at(tuesday, 2))]
    assert fits(at(monday, 23, 30), at(tuesday, 0, 20), working)
    assert fits(at(monday, 9, 30), at(monday, 10, 20), working) is False
    assert fits(at(monday, 9, 10), at(monday, 10), working)
    assert fits(at(monday, 8), at(monday, 9), working) is False


def test_working_time_follows_overrides() -> None:
    monday = date(2026, 12, 7)
    week = [WeeklyHours(0, time(9), time(12))]
    closed = working_intervals(calendar(week, overrides={monday: []}), monday, monday)
    other = working_intervals(
        calendar(week, overrides={monday: [(time(14), time(15))]}), monday, monday
    )

    assert closed == []
    assert other == [(at(monday, 14), at(monday, 15))]
    assert fits(at(monday, 14), at(monday, 14) + int(timedelta(minutes=50).total_seconds()), other)
