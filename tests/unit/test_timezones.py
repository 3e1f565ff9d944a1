"""The fast local formatter agrees with the standard library on every instant, clock changes
included."""

from __future__ import annotations

from datetime import MAXYEAR, MINYEAR, UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from booking.bookings.validation import parse_instant
from booking.core.errors import ValidationFailed
from booking.core.timezones import SCHEDULING_REACH, LocalClock

ZONES = [
    "America/Toronto",
    "Europe/London",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/St_Johns",
    "Australia/Lord_Howe",  # half-hour clock changes
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45 / +13:45
    "UTC",
]


@settings(max_examples=400, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    seconds=st.integers(min_value=1_577_836_800, max_value=1_893_456_000),  # 2020 to 2030
)
def test_local_clock_matches_isoformat(zone: str, seconds: int) -> None:
    tz = ZoneInfo(zone)
    expected = datetime.fromtimestamp(seconds, tz).isoformat(timespec="seconds")
    assert LocalClock(tz).isoformat(seconds) == expected


def test_local_clock_around_a_clock_change_in_a_shared_formatter() -> None:
    tz = ZoneInfo("Australia/Lord_Howe")
    clock = LocalClock(tz)
    # Lord Howe moves its clocks by half an hour at 02:00 local time, mid-hour in UTC.
    start = int(datetime(2026, 10, 3, 14, 0).timestamp())
    for seconds in range(start, start + 4 * 3600, 60):
        assert clock.isoformat(seconds) == datetime.fromtimestamp(seconds, tz).isoformat(
            timespec="seconds"
        )


NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
# RFC 3339 offsets are whole minutes, up to a minute short of a day either way.
OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@settings(max_examples=500, deadline=None)
@given(instant=st.datetimes(timezones=OFFSETS))
@example(instant=datetime.min.replace(tzinfo=timezone(timedelta(hours=23, minutes=59))))
@example(instant=datetime.max.replace(tzinfo=timezone(-timedelta(hours=23, minutes=59))))
def test_any_written_instant_is_taken_within_reach_or_refused_on_its_field(
    instant: datetime,
) -> None:
    written = instant.isoformat()
    if abs(instant - NOW) > SCHEDULING_REACH:
        with pytest.raises(ValidationFailed) as refused:
            parse_instant(written, "start", NOW)
        assert [f.field for f in refused.value.fields] == ["start"]
        return
    taken = parse_instant(written, "start", NOW)
    # What the service then does with it (UTC, windows of days around it) cannot overflow.
    in_utc = taken.astimezone(UTC)
    assert in_utc == instant
    assert (in_utc - timedelta(days=62)).year > MINYEAR
    assert (in_utc + timedelta(days=62)).year < MAXYEAR
