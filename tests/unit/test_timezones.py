"""The fast local formatter agrees with the standard library on every instant, clock changes
included."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from booking.timezones import LocalClock

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
