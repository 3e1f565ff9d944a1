"""The outbox's side of bookings and intake: queuing what a change sends, in the change's
transaction (booking.bookings.ports.Announcer)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from booking.bookings.statuses import MessageKind, Recipient
from booking.notifications import outbox


class OutboxAnnouncer:
    """Writes outbox rows in the caller's transaction; the relay sends them after commit."""

    async def announce(
        self,
        booking_id: int,
        reference: str,
        kind: MessageKind,
        sequence: int,
        recipients: Iterable[Recipient],
        now: datetime,
    ) -> None:
        await outbox.queue_messages(booking_id, reference, kind, sequence, recipients, now)

    async def notify_practice(
        self, booking_id: int, reference: str, kind: MessageKind, sequence: int, now: datetime
    ) -> None:
        await outbox.queue_practice_notice(booking_id, reference, kind, sequence, now)

    async def tell_former_therapist(
        self, booking_id: int, reference: str, sequence: int, therapist_id: int, now: datetime
    ) -> None:
        await outbox.queue_former_therapist(booking_id, reference, sequence, therapist_id, now)

    async def remind(
        self,
        booking_id: int,
        reference: str,
        sequence: int,
        starts_at: datetime,
        before: timedelta | None,
        now: datetime,
    ) -> None:
        await outbox.queue_reminders(booking_id, reference, sequence, starts_at, before, now)

    async def drop_reminders(self, booking_id: int) -> None:
        await outbox.drop_pending_reminders(booking_id)
