"""The hold rule is written once in Python (booking.bookings.lifecycle) and once as queries
(booking.bookings.holds); on either database the two pick the same bookings, and what reads
it (an intake link) follows it before the sweep has run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from httpx import AsyncClient
from piccolo.custom_types import Combinable

from booking.bookings import lifecycle
from booking.bookings.holds import blocking, lapsed_hold, live_hold
from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking
from tests.factories import add_booking, booking_request
from tests.integration.conftest import NOW, FixedClock
from tests.integration.practice import AT_10, Practice, intake_token

HOLD_ENDS = (None, NOW - timedelta(minutes=1), NOW, NOW + timedelta(minutes=1))


async def test_the_hold_queries_pick_what_the_lifecycle_says(practice: Practice) -> None:
    # Given a booking of every status, and holds ending before, at and after now (or never)
    start = NOW + timedelta(days=5)
    for status in BookingStatus:
        for hold_end in HOLD_ENDS if status is BookingStatus.PENDING_PAYMENT else (None,):
            await add_booking(
                practice.therapist_id,
                practice.type_id,
                start,
                status=status,
                hold_expires_at=hold_end,
            )
            start += timedelta(hours=2)
    rows = await Booking.select(Booking._meta.primary_key, Booking.status, Booking.hold_expires_at)
    states = {r["id"]: (BookingStatus(r["status"]), r["hold_expires_at"]) for r in rows}

    # When each query form selects its rows
    async def picked(form: Callable[[datetime], Combinable]) -> set[int]:
        ids = await Booking.select(Booking._meta.primary_key).where(form(NOW)).output(as_list=True)
        return set(ids)

    # Then they are exactly the rows the pure rule names
    lapsed = {i for i, (s, end) in states.items() if lifecycle.hold_lapsed(s, end, NOW)}
    blocks = {i for i, (s, end) in states.items() if lifecycle.blocks_time(s, end, NOW)}
    held = {i for i in blocks if states[i][0] is BookingStatus.PENDING_PAYMENT}
    assert await picked(lapsed_hold) == lapsed
    assert await picked(blocking) == blocks
    assert await picked(live_hold) == held
    assert (len(lapsed), len(held)) == (3, 1)  # never set, a minute ago, exactly now; later


async def test_an_overdue_hold_closes_its_partners_intake_link_before_the_sweep(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    # Given a paid consultation held for 15 minutes
    held = (await client.post("/api/v1/bookings", json=booking_request(AT_10, kind="paid"))).json()
    link = f"/api/v1/intake/{intake_token(held['reference'], 2)}"
    assert (await client.get(link)).status_code == 200

    # When its hold runs out, with no sweep since
    clock.now += timedelta(minutes=15)

    # Then the partner's link answers like any link of a booking that ended
    response = await client.get(link)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    stored = await Booking.select(Booking.status).first()
    assert stored is not None
    assert stored["status"] == "pending_payment"
