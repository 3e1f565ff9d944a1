"""Erasing a couple's data on request: their names, emails, phones, pronouns, every answer
(every kept version), the cancel reason, the notes and every message still to be sent are
removed; every link of the booking dies; what remains is an anonymous stub for the accounts
(reference, dates, status, therapist, type, amounts) and the audit trail, which holds only
references. Audited as `booking.erased`.

Rows of other domains are reached here on purpose (the outbox, the answer versions, the API's
stored answers): the erasure is one transaction over all of them, so it is whole or nothing.
A consultation still to take place is refused: it is cancelled first (by the couple or the
practice), so its therapist and the couple are told while their addresses still exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.bookings import lifecycle
from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking, IdempotencyKey, Partner
from booking.core.audit import AuditAction
from booking.core.db import scrub, write_transaction
from booking.core.errors import NotFound, TooEarly, ValidationFailed
from booking.core.timezones import Clock
from booking.intake.tables import AnswerVersion
from booking.notifications.tables import OutboxMessage
from booking.staff.access import Origin, record, require_admin
from booking.staff.principal import StaffPrincipal
from booking.staff.tables import ReviewNote


@dataclass(frozen=True, slots=True)
class Erased:
    reference: str
    erased_at: datetime
    # False when the booking had been erased before (erasing again changes nothing).
    now: bool


class EraseService:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def erase(
        self,
        principal: StaffPrincipal,
        reference: str,
        confirm: str,
        origin: Origin = Origin(),  # noqa: B008 (frozen: one shared default is safe)
    ) -> Erased:
        """Erase booking `reference`; `confirm` is the reference typed again.

        Raises NotFound, ValidationFailed (`confirm` differs), TooEarly (a live booking
        whose consultation has not ended: cancel it first).
        """
        require_admin(principal)
        reference = reference.strip().upper()
        if confirm.strip().upper() != reference:
            raise ValidationFailed.on(
                "confirm", "Type the booking's reference again to confirm the erasure."
            )
        async with write_transaction():
            now = self.clock()
            booking = (
                await Booking.select(
                    Booking._meta.primary_key,
                    Booking.status,
                    Booking.hold_expires_at,
                    Booking.ends_at,
                    Booking.erased_at,
                )
                .where(Booking.reference == reference)
                .first()
            )
            if booking is None:
                raise NotFound("No booking has this reference.")
            if booking["erased_at"] is not None:
                return Erased(reference, booking["erased_at"], now=False)
            live = lifecycle.blocks_time(
                BookingStatus(booking["status"]), booking["hold_expires_at"], now
            )
            if live and now < booking["ends_at"]:
                raise TooEarly(
                    "This consultation is still to take place: cancel it first, then erase."
                )
            await _erase(booking["id"], now)
            await record(
                AuditAction.BOOKING_ERASED,
                principal,
                origin,
                booking=reference,
                record="couple+partners+notes+messages",
                at=now,
            )
        await scrub()
        return Erased(reference, now, now=True)


async def _erase(booking_id: int, now: datetime) -> None:
    """Everything of the couple's goes, in the caller's transaction; raising each link's
    generation and dropping its hash makes every link of the booking dead."""
    await AnswerVersion.delete().where(AnswerVersion.booking == booking_id)
    await ReviewNote.delete().where(ReviewNote.booking == booking_id)
    await IdempotencyKey.delete().where(IdempotencyKey.booking == booking_id)
    await OutboxMessage.delete().where(
        (OutboxMessage.booking == booking_id) & (OutboxMessage.status == "pending")
    )
    # What was sent keeps its record (ids, times), never a word of what a server answered.
    await OutboxMessage.update({OutboxMessage.last_error: ""}).where(
        OutboxMessage.booking == booking_id
    )
    await Partner.update(
        {
            Partner.name: "",
            Partner.email: "",
            Partner.phone: "",
            Partner.pronouns: "",
            Partner.answers: None,
            Partner.intake_token_hash: None,
            Partner.intake_generation: Partner.intake_generation + 1,
        }
    ).where(Partner.booking == booking_id)
    await Booking.update(
        {
            Booking.couple_answers: None,
            Booking.cancel_reason: "",
            Booking.cancel_reason_encrypted: None,
            Booking.manage_token_hash: None,
            Booking.manage_generation: Booking.manage_generation + 1,
            Booking.client_digest: "",
            Booking.viewer_timezone: "",
            Booking.erased_at: now,
            Booking.updated_at: now,
        }
    ).where(Booking._meta.primary_key == booking_id)
