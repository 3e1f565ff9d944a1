"""No double booking under truly concurrent requests, on every configured database."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from typing import Any

from booking.bookings.tables import Booking
from booking.scheduling.tables import ConsultationType, TherapistOffering
from tests.factories import booking_request, make_type
from tests.integration.bookings.conftest import ConcurrentClient
from tests.integration.practice import AT_9, AT_10, AT_11, MONDAY, Practice


async def post_all(concurrent: ConcurrentClient, bodies: list[dict[str, Any]]) -> Counter[int]:
    responses = await asyncio.gather(
        *(concurrent.http.post("/api/v1/bookings", json=body) for body in bodies)
    )
    # The requests really overlapped in the app, not one after another.
    assert concurrent.in_flight.most > 1
    for response in responses:
        assert response.status_code in (201, 409), response.text
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "slot_unavailable"
    return Counter(r.status_code for r in responses)


async def test_fifty_simultaneous_bookings_of_one_slot_make_exactly_one(
    concurrent: ConcurrentClient, practice: Practice
) -> None:
    statuses = await post_all(concurrent, [booking_request(AT_10) for _ in range(50)])

    assert statuses == {201: 1, 409: 49}
    assert await Booking.count().where(Booking.status == "confirmed") == 1


async def test_simultaneous_overlapping_bookings_of_different_lengths_make_one(
    concurrent: ConcurrentClient, practice: Practice
) -> None:
    short = await make_type(
        "short", duration_minutes=20, slot_interval_minutes=10, buffer_after_minutes=0
    )
    await TherapistOffering.insert(
        TherapistOffering(therapist=practice.therapist_id, consultation_type=short)
    )
    # 10:00-11:00 blocked by the 50-minute type, against 20-minute ones from 10:10 to 10:40.
    bodies = [booking_request(AT_10) for _ in range(10)] + [
        booking_request(f"{MONDAY}T10:{m}:00-05:00", kind="short")
        for m in ("10", "20", "30", "40")
        for _ in range(5)
    ]
    await post_all(concurrent, bodies)

    rows = (
        await Booking.select(Booking.starts_at, Booking.blocked_until)
        .where(Booking.status == "confirmed")
        .order_by(Booking.starts_at)
    )
    for earlier, later in itertools.pairwise(rows):
        assert earlier["blocked_until"] <= later["starts_at"], rows


async def test_simultaneous_bookings_respect_the_daily_cap(
    concurrent: ConcurrentClient, practice: Practice
) -> None:
    await ConsultationType.update({ConsultationType.daily_cap: 2}).where(
        ConsultationType.slug == "consult"
    )
    bodies = [booking_request(start) for start in (AT_9, AT_10, AT_11) for _ in range(8)]
    statuses = await post_all(concurrent, bodies)

    assert statuses[201] == 2
    assert await Booking.count().where(Booking.status == "confirmed") == 2


async def test_concurrent_repeats_with_one_idempotency_key_create_one_booking(
    concurrent: ConcurrentClient, practice: Practice
) -> None:
    body = booking_request(AT_10)
    responses = await asyncio.gather(
        *(
            concurrent.http.post(
                "/api/v1/bookings", json=body, headers={"Idempotency-Key": "k-123"}
            )
            for _ in range(20)
        )
    )
    assert concurrent.in_flight.most > 1

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["reference"] for r in responses}) == 1
    assert await Booking.count() == 1


async def test_cancel_then_rebook_the_same_time_concurrently_with_others(
    concurrent: ConcurrentClient, practice: Practice
) -> None:
    first = await concurrent.http.post("/api/v1/bookings", json=booking_request(AT_10))
    token = first.json()["manage_url"].rsplit("/", 1)[1]
    assert (await concurrent.http.post(f"/api/v1/bookings/{token}/cancel")).status_code == 200

    statuses = await post_all(concurrent, [booking_request(AT_10) for _ in range(10)])

    assert statuses == {201: 1, 409: 9}
