"""Unpaid holds expire: at once for availability and views, and in storage by the sweep."""

from __future__ import annotations

from datetime import timedelta

from httpx import AsyncClient

from booking.bookings.holds import sweep_expired_holds
from booking.bookings.tables import Booking
from tests.factories import booking_request
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, Practice, manage_token


async def test_an_overdue_hold_reads_as_expired_before_and_after_the_sweep(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    held = await client.post("/api/v1/bookings", json=booking_request(AT_10, kind="paid"))
    token = manage_token(held.json()["manage_url"])
    assert await sweep_expired_holds(clock.now) == 0

    clock.now += timedelta(minutes=15)
    view = (await client.get(f"/api/v1/bookings/{token}")).json()
    assert view["status"] == "expired"
    assert view["can_cancel"] is False
    stored = await Booking.select(Booking.status).first()
    assert stored is not None
    assert stored["status"] == "pending_payment"

    assert await sweep_expired_holds(clock.now) == 1
    stored = await Booking.select(Booking.status).first()
    assert stored is not None
    assert stored["status"] == "expired"
    assert await sweep_expired_holds(clock.now) == 0


async def test_an_expired_hold_cannot_be_moved(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    held = await client.post("/api/v1/bookings", json=booking_request(AT_10, kind="paid"))
    token = manage_token(held.json()["manage_url"])
    clock.now += timedelta(hours=1)
    response = await client.post(
        f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-12-07T11:00:00-05:00"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "too_late"
