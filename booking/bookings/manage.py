"""Managing a booking by its manage link: view it, cancel it, move it, fetch its calendar
file. A link opens until a while after the consultation (lifecycle.manage_link_open)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from asyncpg.exceptions import ExclusionViolationError

from booking.bookings import lifecycle
from booking.bookings.changes import ChangeMessages, slot_taken
from booking.bookings.contexts import cancel_reason_context
from booking.bookings.create import reminder_lead
from booking.bookings.holds import expire_overdue_holds
from booking.bookings.ports import Announcer, CalendarFiles, Deposits, PaymentRecords
from booking.bookings.records import BOOKING_COLUMNS, BookingRecord, load_booking, load_partners
from booking.bookings.schemas import BookingView, Cancelled, PartnerStatus
from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking
from booking.bookings.validation import parse_instant
from booking.core import audit
from booking.core.audit import COUPLE, Actor, AuditAction
from booking.core.crypto import Keyring
from booking.core.db import LockSpace, lock, write_transaction
from booking.core.errors import NotFound, ValidationFailed
from booking.core.settings import Settings
from booking.core.timezones import Clock, epoch, rfc3339, zone
from booking.core.tokens import looks_like_token, token_hash
from booking.scheduling.records import (
    ConsultationTypeRecord,
    TherapistRecord,
    load_consultation_type,
    load_therapist,
)
from booking.scheduling.services import Availability, AvailabilityService

T = TypeVar("T")


class BookingManagement:
    """What both partners do through the manage link; owns those changes' transactions.

    The outbox queues what a change sends (`announcer`); notifications build the calendar
    file (`calendars`); payments tell a deposit's state (`payments`) and decide what a
    cancellation does with it (`deposits`; None: no booking has one).
    """

    def __init__(
        self,
        settings: Settings,
        keyring: Keyring,
        clock: Clock,
        availability: AvailabilityService,
        *,
        announcer: Announcer,
        calendars: CalendarFiles,
        payments: PaymentRecords | None = None,
        deposits: Deposits | None = None,
    ) -> None:
        self.keyring = keyring
        self.payments = payments
        self.deposits = deposits
        self.clock = clock
        self.availability = availability
        self.calendars = calendars
        self.messages = ChangeMessages(announcer, reminder_lead(settings))

    async def reschedule_options(
        self, manage_token: str, first: date | None, tz: ZoneInfo
    ) -> Availability:
        """Open times to move the booking to: same therapist and type, its own time free."""
        booking = await self._by_manage_token(manage_token)
        # The therapist first: the order the 404s have always come in.
        therapist = await _therapist(booking.therapist_id)
        consultation_type = await _consultation_type(booking.consultation_type_id)
        found = await self.availability.find(
            consultation_type.slug, therapist.slug, first, tz=tz, moving=booking.id
        )
        current = epoch(booking.starts_at)
        return Availability(found.timezone, [s for s in found.slots if s.start != current])

    async def calendar_file(self, manage_token: str) -> bytes:
        """The booking's event as an .ics file (METHOD:PUBLISH), as it stands now."""
        booking = await self._by_manage_token(manage_token)
        return await self.calendars.booking_file(booking.id)

    async def view(self, manage_token: str) -> BookingView:
        booking = await self._by_manage_token(manage_token)
        return await self._view(booking)

    async def cancel(self, manage_token: str, reason: str | None, client: str) -> Cancelled:
        """Cancel; cancelling a cancelled booking again answers the same, not an error."""
        if reason is not None and len(reason) > 500:
            raise ValidationFailed.on("reason", "The reason may be at most 500 characters.")
        booking = await self._by_manage_token(manage_token)
        return await self._cancel(booking.id, reason, COUPLE, client)

    async def cancel_for_practice(
        self, reference: str, actor: Actor, client: str = ""
    ) -> Cancelled:
        """The practice cancels booking `reference` (the couple and the therapist are told as
        when the couple cancel); audited under `actor`. Raises NotFound, TooLate."""
        row = (
            await Booking.select(Booking._meta.primary_key, Booking.erased_at)
            .where(Booking.reference == reference.strip().upper())
            .first()
        )
        if row is None or row["erased_at"] is not None:
            raise NotFound("No booking has this reference.")
        return await self._cancel(row["id"], None, actor, client)

    async def _cancel(
        self, booking_id: int, reason: str | None, actor: Actor, client: str
    ) -> Cancelled:
        async with write_transaction():
            now = self.clock()
            current = await _reload(booking_id)
            change = lifecycle.cancel(current.state, now)
            if change is None:
                earlier = (
                    await self.deposits.cancellation_refund(booking_id)
                    if self.deposits is not None
                    else None
                )
                return Cancelled(status=BookingStatus.CANCELLED, refund=earlier)
            # In this transaction: the refund is queued exactly when the cancellation commits.
            refund = (
                await self.deposits.cancelled(booking_id, current.reference, now)
                if self.deposits is not None
                else None
            )
            await Booking.update(
                {
                    Booking.status: change.status,
                    Booking.cancelled_at: now,
                    Booking.cancel_reason_encrypted: self.keyring.encrypt(
                        reason.strip().encode("utf-8"), cancel_reason_context(current.reference)
                    )
                    if reason and reason.strip()
                    else None,
                    Booking.sequence: Booking.sequence + 1,
                    Booking.updated_at: now,
                }
            ).where(Booking._meta.primary_key == booking_id)
            # An unpaid hold was never in a calendar: its cancellation announces nothing.
            therapist = await _therapist(current.therapist_id) if change.announce else None
            await self.messages.send(
                booking_id, current.reference, change, therapist, current.starts_at, now
            )
            await audit.record(
                AuditAction.BOOKING_CANCELLED,
                actor=actor,
                booking=current.reference,
                client=client,
                at=now,
            )
            await self.messages.tell_practice_if_flagged(current, now)
        return Cancelled(status=BookingStatus.CANCELLED, refund=refund)

    async def reschedule(self, manage_token: str, start: str, client: str) -> BookingView:
        """Move the booking to another offered time with the same therapist."""
        new_start = parse_instant(start, "start", self.clock())
        booking = await self._by_manage_token(manage_token)
        consultation_type = await _consultation_type(booking.consultation_type_id)
        therapist = await _therapist(booking.therapist_id)
        duration = timedelta(minutes=consultation_type.duration_minutes)
        blocked = duration + timedelta(minutes=consultation_type.buffer_after_minutes)
        try:
            async with write_transaction():
                now = self.clock()
                await lock(LockSpace.THERAPIST, therapist.id)
                current = await _reload(booking.id)
                change = lifecycle.move(
                    current.state, consultation_type.reschedule_cutoff_hours, now
                )
                await expire_overdue_holds(therapist.id, new_start, new_start + blocked, now)
                if not await self.availability.offers(
                    consultation_type, therapist, new_start, now, exclude_booking=booking.id
                ):
                    raise slot_taken()
                await Booking.update(
                    {
                        Booking.starts_at: new_start,
                        Booking.ends_at: new_start + duration,
                        Booking.blocked_until: new_start + blocked,
                        Booking.sequence: Booking.sequence + 1,
                        Booking.updated_at: now,
                    }
                ).where(Booking._meta.primary_key == booking.id)
                await audit.record(
                    AuditAction.BOOKING_RESCHEDULED,
                    actor=COUPLE,
                    booking=current.reference,
                    client=client,
                    at=now,
                )
                await self.messages.tell_practice_if_flagged(current, now)
                await self.messages.send(
                    booking.id, current.reference, change, therapist, new_start, now
                )
        except ExclusionViolationError:
            raise slot_taken() from None
        return await self._view(await _reload(booking.id))

    async def _by_manage_token(self, token: str) -> BookingRecord:
        return await booking_by_manage_token(token, self.clock())

    async def _view(self, booking: BookingRecord) -> BookingView:
        now = self.clock()
        consultation_type = await load_consultation_type(booking.consultation_type_id)
        therapist = await load_therapist(booking.therapist_id)
        partners = await load_partners(booking.id)
        consultation_type = _found(consultation_type, "consultation type")
        therapist = _found(therapist, "therapist")
        tz = _viewer_zone(booking, therapist.timezone)
        state = booking.state
        status = lifecycle.status_of(state, now)
        cutoff = consultation_type.reschedule_cutoff_hours
        can_cancel = lifecycle.cancel_refusal(state, now) is None
        refund_on_cancel = (
            await self.deposits.refund_on_cancel(booking.id, now)
            if can_cancel and self.deposits is not None
            else None
        )
        return BookingView(
            reference=booking.reference,
            status=status,
            start=rfc3339(booking.starts_at.astimezone(tz)),
            end=rfc3339(booking.ends_at.astimezone(tz)),
            therapist=therapist.slug,
            consultation_type=consultation_type.slug,
            mode=booking.mode,
            partners=[
                PartnerStatus(name=p.name, intake_complete=p.intake_completed_at is not None)
                for p in partners
            ],
            can_cancel=can_cancel,
            can_reschedule=lifecycle.move_refusal(state, cutoff, now) is None,
            refund_on_cancel=refund_on_cancel,
            timezone=tz.key,
            hold_expires_at=rfc3339(booking.hold_expires_at)
            if status == BookingStatus.PENDING_PAYMENT and booking.hold_expires_at
            else None,
            payment=await self.payments.summary(booking.id) if self.payments else None,
        )


def _viewer_zone(booking: BookingRecord, therapist_zone: str) -> ZoneInfo:
    try:
        return zone(booking.viewer_timezone or therapist_zone)
    except ValueError:
        return zone(therapist_zone)


def _found(record: T | None, what: str) -> T:
    """`record`, or a 404 when the booking's `what` is gone (the foreign keys keep it; a row
    removed by hand must still give a plain answer, whatever the interpreter's flags)."""
    if record is None:
        raise NotFound(f"This booking's {what} no longer exists.")
    return record


async def _therapist(therapist_id: int) -> TherapistRecord:
    return _found(await load_therapist(therapist_id), "therapist")


async def _consultation_type(type_id: int) -> ConsultationTypeRecord:
    return _found(await load_consultation_type(type_id), "consultation type")


async def _reload(booking_id: int) -> BookingRecord:
    booking = await load_booking(booking_id)
    if booking is None:
        raise NotFound("This booking no longer exists.")
    return booking


async def booking_by_manage_token(token: str, now: datetime) -> BookingRecord:
    """The booking whose manage link carries `token`, while that link is open at `now`; one
    NotFound for a token that is malformed, unknown or past its time (which is which is
    nobody's business)."""
    gone = NotFound("This booking link is not valid or has expired.")
    if not looks_like_token(token):
        raise gone
    row = (
        await Booking.select(*BOOKING_COLUMNS)
        .where(Booking.manage_token_hash == token_hash(token))
        .first()
    )
    if row is None:
        raise gone
    booking = BookingRecord.from_row(row)
    if not lifecycle.manage_link_open(booking.ends_at, now):
        raise gone
    return booking
