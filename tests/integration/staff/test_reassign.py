"""Reassignment decides by the new therapist's real calendar: busy is refused (and their
times offered instead), a type or mode they do not offer is named, a finished booking stays."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.bookings.tables import Booking
from booking.core.errors import SlotUnavailable, TooLate, ValidationFailed
from booking.core.timezones import zone
from tests.factories import make_therapist, make_type
from tests.integration.practice import AT_9, AT_10, AT_11, Practice, manage_token
from tests.integration.staff.conftest import ADMIN, Staff, book


async def ben(practice: Practice, **fields: Any) -> int:
    values: dict[str, Any] = {
        "name": "Ben Okafor",
        "types": (practice.type_id,),
        "hours": ((0, "09:00", "12:00"),),
        "modes": ["video", "phone"],
    }
    values.update(fields)
    return await make_therapist("ben", **values)


async def test_a_busy_therapist_is_refused_and_their_free_times_offered(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    await ben(practice)
    await book(client, AT_10, therapist="ben")
    mine = await book(client, AT_10)

    with pytest.raises(SlotUnavailable) as refused:
        await staff.review.reassign(ADMIN, mine["reference"], "ben")
    options = await staff.review.reassignment_options(
        ADMIN, mine["reference"], "ben", date(2026, 12, 7), zone("America/Toronto")
    )
    moved = await staff.review.reassign(
        ADMIN, mine["reference"], "ben", start=datetime.fromisoformat(AT_11)
    )

    assert "Ben Okafor is not free" in refused.value.message
    starts = {s.start for s in options.slots}
    assert int(datetime.fromisoformat(AT_10).timestamp()) not in starts
    assert int(datetime.fromisoformat(AT_11).timestamp()) in starts
    assert (moved.therapist, moved.sequence) == ("ben", 1)
    row = await Booking.select(Booking.starts_at, Booking.sequence).where(
        Booking.reference == mine["reference"]
    )
    assert row == [{"starts_at": datetime(2026, 12, 7, 16, 0, tzinfo=UTC), "sequence": 1}]
    # Ana's 10 o'clock is free again for couples.
    free = await client.get(
        "/api/v1/availability",
        params={"consultation_type": "consult", "therapist": "ana", "start": "2026-12-07"},
    )
    assert free.status_code == 200, free.text
    assert AT_10 in {s["start"] for s in free.json()["slots"]}


async def test_what_the_new_therapist_does_not_offer_is_named(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    other_type = await make_type("other", modes=["video"])
    await ben(practice, types=(other_type,))
    await make_therapist(
        "cy", types=(practice.type_id,), hours=((0, "09:00", "12:00"),), modes=["in_person"]
    )
    booked = await book(client, AT_10)

    for slug, words in (("ben", "does not offer"), ("cy", "does not meet couples this way")):
        with pytest.raises(ValidationFailed) as refused:
            await staff.review.reassign(ADMIN, booked["reference"], slug)
        assert words in refused.value.message
        assert refused.value.fields[0].field == "therapist"
    with pytest.raises(ValidationFailed):
        await staff.review.reassign(ADMIN, booked["reference"], "ana")
    assert await Booking.select(Booking.sequence).first() == {"sequence": 0}


async def test_a_cancelled_booking_is_not_reassigned(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    await ben(practice)
    booked = await book(client, AT_9)
    await client.post(f"/api/v1/bookings/{manage_token(booked['manage_url'])}/cancel")

    with pytest.raises(TooLate):
        await staff.review.reassign(ADMIN, booked["reference"], "ben")
