"""Availability learns of booked time only through the BookedTime it is given, and the
bookings' LiveBookings gives exactly the time live bookings keep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking.bookings.booked_time import LiveBookings
from booking.bookings.tables import Booking
from booking.core.timezones import epoch
from booking.scheduling.ports import Booked
from booking.scheduling.services import AvailabilityService
from tests.factories import add_booking, make_therapist, make_type
from tests.fixtures.databases import Database
from tests.integration.conftest import NOW

TORONTO = ZoneInfo("America/Toronto")
MONDAY = datetime(2026, 12, 7, tzinfo=TORONTO).date()


def at(clock: str) -> datetime:
    return datetime.fromisoformat(f"{MONDAY}T{clock}").replace(tzinfo=TORONTO)


class OneBooking:
    """Booked time that knows of one 10:00 consultation, whatever the database holds."""

    def __init__(self, therapist_id: int, type_id: int) -> None:
        self.booked = Booked(therapist_id, type_id, epoch(at("10:00")), epoch(at("11:00")))
        self.asked: list[int | None] = []

    async def held(
        self, therapist_ids: Sequence[int], window: tuple[datetime, datetime]
    ) -> list[Booked]:
        return []

    async def busy(
        self,
        therapist_ids: Sequence[int],
        window: tuple[datetime, datetime],
        now: datetime,
        exclude_booking: int | None = None,
    ) -> list[Booked]:
        self.asked.append(exclude_booking)
        return [self.booked] if self.booked.therapist_id in therapist_ids else []


async def monday(service: AvailabilityService, moving: int | None = None) -> list[str]:
    found = await service.find("consult", "ana", MONDAY, MONDAY, tz=TORONTO, now=NOW, moving=moving)
    return [datetime.fromtimestamp(s.start, TORONTO).strftime("%H:%M") for s in found.slots]


async def test_availability_takes_booked_time_from_the_booked_time_it_is_given(
    database: Database,
) -> None:
    # Given Ana's Monday morning, and booked time that knows of a 10:00 booking the table lacks
    type_id = await make_type("consult")
    therapist_id = await make_therapist("ana", types=(type_id,), hours=((0, "09:00", "12:00"),))
    booked = OneBooking(therapist_id, type_id)

    # When availability is asked, once for a booking being moved
    times = await monday(AvailabilityService("America/Toronto", booked))
    await monday(AvailabilityService("America/Toronto", booked), moving=41)

    # Then 10:00 is taken, and the booking being moved is passed on to be left out
    assert times == ["09:00", "11:00"]
    assert booked.asked == [None, 41]


async def test_live_bookings_keep_their_time_and_lapsed_holds_or_the_moved_one_do_not(
    database: Database,
) -> None:
    # Given a confirmed booking, a live hold, a lapsed hold and a cancellation on Monday
    type_id = await make_type("consult")
    therapist_id = await make_therapist("ana", types=(type_id,), hours=((0, "09:00", "12:00"),))
    await add_booking(therapist_id, type_id, at("09:00"))
    await add_booking(
        therapist_id, type_id, at("10:00"), status="pending_payment", hold_expires_at=NOW
    )
    await add_booking(
        therapist_id,
        type_id,
        at("11:00"),
        status="pending_payment",
        hold_expires_at=NOW + timedelta(minutes=5),
    )
    await add_booking(therapist_id, type_id, at("12:00"), status="cancelled")
    confirmed = await (
        Booking.select(Booking._meta.primary_key).where(Booking.starts_at == at("09:00")).first()
    )
    assert confirmed is not None
    window = (at("00:00"), at("23:59"))

    # When the bookings domain is asked for the busy time, and again leaving the first out
    busy = await LiveBookings().busy([therapist_id], window, NOW)
    moving = await LiveBookings().busy([therapist_id], window, NOW, confirmed["id"])

    # Then the confirmed booking and the live hold keep their time, buffer included
    assert [(b.starts_at, b.blocked_until) for b in sorted(busy, key=lambda b: b.starts_at)] == [
        (epoch(at("09:00")), epoch(at("10:00"))),
        (epoch(at("11:00")), epoch(at("12:00"))),
    ]
    assert [b.starts_at for b in moving] == [epoch(at("11:00"))]
    assert await LiveBookings().busy([therapist_id + 1], window, NOW) == []
