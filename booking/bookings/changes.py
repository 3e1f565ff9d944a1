"""What every change of a booking shares, creating or managing it: the messages it sends in
its own transaction, and the answer when its time was taken meanwhile."""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.bookings.lifecycle import Transition
from booking.bookings.ports import Announcer
from booking.bookings.records import BookingRecord
from booking.bookings.statuses import PARTNERS, MessageKind, Recipient
from booking.core.errors import SlotUnavailable
from booking.scheduling.records import TherapistRecord


def slot_taken() -> SlotUnavailable:
    return SlotUnavailable("That time is no longer available. Please choose another time.")


class ChangeMessages:
    """Queues what a lifecycle change sends, through the `announcer`, in the caller's
    transaction; reminders go `reminder_lead` before the start (None: no reminders)."""

    def __init__(self, announcer: Announcer, reminder_lead: timedelta | None) -> None:
        self.announcer = announcer
        self.reminder_lead = reminder_lead

    async def send(
        self,
        booking_id: int,
        reference: str,
        change: Transition,
        therapist: TherapistRecord | None,
        starts_at: datetime,
        now: datetime,
    ) -> None:
        """Drop the messages `change` makes obsolete and queue the ones it sends, in its
        transaction (`therapist` is needed only when it announces; `starts_at`: the time
        reminders are for)."""
        if change.drops_reminders:
            await self.announcer.drop_reminders(booking_id)
        if change.announce is not None and therapist is not None:
            await self._announce(
                booking_id, reference, change.announce, change.sequence, therapist, now
            )
        if change.queues_reminders:
            await self.announcer.remind(
                booking_id, reference, change.sequence, starts_at, self.reminder_lead, now
            )

    async def tell_practice_if_flagged(self, booking: BookingRecord, now: datetime) -> None:
        """Tell the practice that a flagged booking moves or is cancelled (nothing if unflagged);
        `booking` is as read before the change, which raises its SEQUENCE by one."""
        if booking.safety_flag:
            await self.announcer.notify_practice(
                booking.id,
                booking.reference,
                MessageKind.FLAGGED_CHANGE,
                booking.sequence + 1,
                now,
            )

    async def notify_practice(
        self, booking_id: int, reference: str, kind: MessageKind, sequence: int, now: datetime
    ) -> None:
        """One notice of `kind` to the practice (an event of its own)."""
        await self.announcer.notify_practice(booking_id, reference, kind, sequence, now)

    async def _announce(
        self,
        booking_id: int,
        reference: str,
        kind: MessageKind,
        sequence: int,
        therapist: TherapistRecord,
        now: datetime,
    ) -> None:
        """Queue one message per recipient, in the transaction of the change it announces."""
        recipients = (*PARTNERS, Recipient.THERAPIST) if therapist.wants_invitations else PARTNERS
        await self.announcer.announce(booking_id, reference, kind, sequence, recipients, now)
