"""Hold expiries counted wherever a hold expires (the sweep, or a booking of the time an
overdue hold still held), once each, after the transaction that expired it committed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from prometheus_client import REGISTRY

from booking.bookings.holds import sweep_expired_holds
from booking.bookings.tables import Booking
from tests.factories import booking_request
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, Practice


def expiries() -> float:
    return REGISTRY.get_sample_value("booking_hold_expiries_total") or 0.0


async def test_holds_a_booking_expires_are_counted_once_it_commits_and_never_again(
    client: Any, practice: Practice, clock: FixedClock
) -> None:
    held = await client.post("/api/v1/bookings", json=booking_request(AT_10, kind="paid"))
    assert held.status_code == 201, held.text
    before = expiries()
    clock.now += timedelta(minutes=15)  # the hold's time has run out

    booked = await client.post("/api/v1/bookings", json=booking_request(AT_10))

    assert booked.status_code == 201, booked.text
    assert expiries() == before + 1
    assert await sweep_expired_holds(clock.now) == 0  # already expired: not counted twice
    assert expiries() == before + 1


async def test_a_booking_refused_after_expiring_a_hold_counts_nothing_and_the_sweep_counts_it(
    client: Any, practice: Practice, clock: FixedClock
) -> None:
    held = await client.post("/api/v1/bookings", json=booking_request(AT_10, kind="paid"))
    assert held.status_code == 201, held.text
    before = expiries()
    clock.now += timedelta(minutes=15)

    # Overlaps the overdue hold, so its transaction expires it first, then finds the time is
    # no offered start and rolls everything back: the hold stays as it was stored.
    refused = await client.post(
        "/api/v1/bookings", json=booking_request("2026-12-07T10:05:00-05:00")
    )

    assert refused.status_code == 409, refused.text
    stored = await Booking.select(Booking.status).first()
    assert stored is not None
    assert stored["status"] == "pending_payment"
    assert expiries() == before
    assert await sweep_expired_holds(clock.now) == 1
    assert expiries() == before + 1
