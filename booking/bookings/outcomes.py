"""What staff record of a consultation once it has started: it took place, or nobody came.

The lifecycle decides whether the change is allowed (booking.bookings.lifecycle.complete,
no_show); this use case writes it in its own transaction with its audit row, and drops the
reminders it makes obsolete.
"""

from __future__ import annotations

from enum import StrEnum

from booking.bookings import lifecycle
from booking.bookings.ports import Announcer
from booking.bookings.records import BookingRecord, load_booking
from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking
from booking.core.acting import Acting
from booking.core.audit import AuditAction
from booking.core.db import write_transaction
from booking.core.errors import NotFound
from booking.core.timezones import Clock


class Outcome(StrEnum):
    """How a consultation went, as staff mark it; the value is the status it leaves."""

    COMPLETED = BookingStatus.COMPLETED.value
    NO_SHOW = BookingStatus.NO_SHOW.value


_CHANGES = {
    Outcome.COMPLETED: (lifecycle.complete, AuditAction.BOOKING_COMPLETED),
    Outcome.NO_SHOW: (lifecycle.no_show, AuditAction.BOOKING_NO_SHOW),
}


class ConsultationOutcomes:
    """Marks a confirmed consultation completed or missed, from its start on."""

    def __init__(self, clock: Clock, announcer: Announcer) -> None:
        self.clock = clock
        self.announcer = announcer

    async def mark(self, booking_id: int, outcome: Outcome, acting: Acting) -> BookingRecord:
        """Record `outcome`; TooEarly before the start, TooLate unless it is confirmed."""
        transition, action = _CHANGES[outcome]
        async with write_transaction():
            now = self.clock()
            current = await load_booking(booking_id)
            if current is None:
                raise NotFound("No booking has this reference.")
            change = transition(current.state, now)
            await Booking.update({Booking.status: change.status, Booking.updated_at: now}).where(
                Booking._meta.primary_key == booking_id
            )
            if change.drops_reminders:
                await self.announcer.drop_reminders(booking_id)
            await acting.record(action, at=now, booking=current.reference, record="booking")
        marked = await load_booking(booking_id)
        if marked is None:
            raise NotFound("No booking has this reference.")
        return marked
