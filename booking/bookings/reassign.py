"""Giving a booking to another therapist: the staff's move, in the style of the couple's
reschedule (booking.bookings.manage), with the same guarantee that no therapist is ever
booked twice.

The new therapist must offer the booking's consultation type and mode and be free at the time
(their hours, their time off, their other bookings; the database's constraint decides on
PostgreSQL, BEGIN IMMEDIATE on SQLite). The booking keeps its calendar UID: the couple get a
REQUEST with the next SEQUENCE, the new therapist an invitation, the therapist it left a
CANCEL. When the new therapist is not free then, `options` lists the times they are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from asyncpg.exceptions import ExclusionViolationError

from booking.bookings import lifecycle
from booking.bookings.changes import slot_taken
from booking.bookings.create import reminder_lead
from booking.bookings.holds import expire_overdue_holds
from booking.bookings.lifecycle import Transition
from booking.bookings.ports import Announcer
from booking.bookings.records import BOOKING_COLUMNS, BookingRecord, load_booking
from booking.bookings.statuses import PARTNERS, MessageKind, Recipient
from booking.bookings.tables import Booking
from booking.core import audit
from booking.core.audit import Actor, AuditAction
from booking.core.db import LockSpace, lock, write_transaction
from booking.core.errors import NotFound, SlotUnavailable, ValidationFailed
from booking.core.settings import Settings
from booking.core.timezones import Clock
from booking.scheduling.records import (
    THERAPIST_COLUMNS,
    ConsultationTypeRecord,
    TherapistRecord,
    load_consultation_type,
    load_therapist,
)
from booking.scheduling.services import Availability, AvailabilityService
from booking.scheduling.tables import Therapist, TherapistOffering


@dataclass(frozen=True, slots=True)
class Reassigned:
    """What the move did: from which therapist to which, at what time, under which SEQUENCE."""

    reference: str
    former_therapist: str
    therapist: str
    starts_at: datetime
    sequence: int


class Reassignment:
    """Moves a live booking to another therapist; audited under the acting member of staff."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        availability: AvailabilityService,
        *,
        announcer: Announcer,
    ) -> None:
        self.clock = clock
        self.availability = availability
        self.announcer = announcer
        self.reminder_lead = reminder_lead(settings)

    async def options(
        self, reference: str, therapist_slug: str, first: date | None, tz: ZoneInfo | None
    ) -> Availability:
        """The times therapist `therapist_slug` could take the booking (its own time free)."""
        booking = await _booking(reference)
        consultation_type = await _consultation_type(booking.consultation_type_id)
        return await self.availability.find(
            consultation_type.slug, therapist_slug, first, tz=tz, moving=booking.id
        )

    async def reassign(
        self,
        reference: str,
        therapist_slug: str,
        *,
        actor: Actor,
        start: datetime | None = None,
        client: str = "",
    ) -> Reassigned:
        """Give booking `reference` to therapist `therapist_slug`, at its own time or `start`.

        Raises NotFound (booking, therapist), ValidationFailed (the same therapist and time,
        a type or mode they do not offer), TooLate (a booking no longer live, or started),
        SlotUnavailable (they are not free then: ask `options`).
        """
        booking = await _booking(reference)
        therapist = await _therapist_by_slug(therapist_slug)
        consultation_type = await _consultation_type(booking.consultation_type_id)
        former = await load_therapist(booking.therapist_id)
        new_start = start or booking.starts_at
        if therapist.id == booking.therapist_id and new_start == booking.starts_at:
            raise ValidationFailed.on("therapist", "The booking is already with this therapist.")
        await _check_offers(therapist, consultation_type, booking.mode)
        duration = timedelta(minutes=consultation_type.duration_minutes)
        blocked = duration + timedelta(minutes=consultation_type.buffer_after_minutes)
        # The practice's decision, not the couple's request: the notice a couple must give
        # does not apply; the therapist's hours, time off, bookings and daily cap do.
        staff_policy = replace(consultation_type, min_notice_minutes=0)
        try:
            async with write_transaction():
                now = self.clock()
                await lock(LockSpace.THERAPIST, therapist.id)
                current = await _reload(booking.id)
                change = lifecycle.reassign(current.state, now)
                await expire_overdue_holds(therapist.id, new_start, new_start + blocked, now)
                if not await self.availability.offers(
                    staff_policy, therapist, new_start, now, exclude_booking=booking.id
                ):
                    raise SlotUnavailable(
                        f"{therapist.name} is not free at that time. Choose one of their times."
                    )
                await Booking.update(
                    {
                        Booking.therapist: therapist.id,
                        Booking.starts_at: new_start,
                        Booking.ends_at: new_start + duration,
                        Booking.blocked_until: new_start + blocked,
                        Booking.sequence: Booking.sequence + 1,
                        Booking.updated_at: now,
                    }
                ).where(Booking._meta.primary_key == booking.id)
                await self._send(current, change, former, therapist, new_start, now)
                await audit.record(
                    AuditAction.BOOKING_REASSIGNED,
                    actor=actor,
                    booking=current.reference,
                    record=f"therapist {former.slug if former else '?'} -> {therapist.slug}",
                    client=client,
                    at=now,
                )
        except ExclusionViolationError:
            raise slot_taken() from None
        return Reassigned(
            reference=booking.reference,
            former_therapist=former.slug if former else "",
            therapist=therapist.slug,
            starts_at=new_start,
            sequence=change.sequence,
        )

    async def _send(
        self,
        booking: BookingRecord,
        change: Transition,
        former: TherapistRecord | None,
        therapist: TherapistRecord,
        starts_at: datetime,
        now: datetime,
    ) -> None:
        """The couple's REQUEST, the new therapist's invitation, the former one's CANCEL,
        and reminders for the new SEQUENCE, in the move's transaction."""
        if change.drops_reminders:
            await self.announcer.drop_reminders(booking.id)
        if change.announce is not None:
            sequence = change.sequence
            await self.announcer.announce(
                booking.id, booking.reference, change.announce, sequence, PARTNERS, now
            )
            if therapist.wants_invitations:
                await self.announcer.announce(
                    booking.id,
                    booking.reference,
                    MessageKind.INVITATION,
                    sequence,
                    (Recipient.THERAPIST,),
                    now,
                )
            if former is not None and former.id != therapist.id and former.wants_invitations:
                await self.announcer.tell_former_therapist(
                    booking.id, booking.reference, sequence, former.id, now
                )
        if change.queues_reminders:
            await self.announcer.remind(
                booking.id, booking.reference, change.sequence, starts_at, self.reminder_lead, now
            )


async def _booking(reference: str) -> BookingRecord:
    row = (
        await Booking.select(*BOOKING_COLUMNS, Booking.erased_at)
        .where(Booking.reference == reference.strip().upper())
        .first()
    )
    # An erased booking is a stub for the accounts: nobody is left to tell of a move.
    if row is None or row["erased_at"] is not None:
        raise NotFound("No booking has this reference.")
    return BookingRecord.from_row(row)


async def _reload(booking_id: int) -> BookingRecord:
    booking = await load_booking(booking_id)
    if booking is None:
        raise NotFound("This booking no longer exists.")
    return booking


async def _therapist_by_slug(slug: str) -> TherapistRecord:
    row = (
        await Therapist.select(*THERAPIST_COLUMNS)
        .where((Therapist.slug == slug) & Therapist.active.eq(True))
        .first()
    )
    if row is None:
        raise NotFound(f"No therapist '{slug}' practises here.")
    return TherapistRecord.from_row(row)


async def _consultation_type(type_id: int) -> ConsultationTypeRecord:
    found = await load_consultation_type(type_id)
    if found is None:
        raise NotFound("This booking's consultation type no longer exists.")
    return found


async def _check_offers(
    therapist: TherapistRecord, consultation_type: ConsultationTypeRecord, mode: str
) -> None:
    offers = await TherapistOffering.exists().where(
        (TherapistOffering.therapist == therapist.id)
        & (TherapistOffering.consultation_type == consultation_type.id)
    )
    if not offers:
        raise ValidationFailed.on(
            "therapist", f"{therapist.name} does not offer {consultation_type.name}."
        )
    if mode and mode not in therapist.modes:
        raise ValidationFailed.on(
            "therapist", f"{therapist.name} does not meet couples this way ({mode})."
        )
