"""The booking lifecycle: hold or confirm, read by manage link, cancel, reschedule, expire.

No double booking is decided by the database: on PostgreSQL an exclusion constraint over the
therapist's blocked time (migration m0004) with a per-therapist advisory lock held while the
slot and the daily cap are checked; on SQLite the check and the insert run in one
BEGIN IMMEDIATE transaction, which serialises writers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from asyncpg.exceptions import ExclusionViolationError

from booking.bookings import lifecycle
from booking.bookings.holds import expire_overdue_holds
from booking.bookings.idempotency import StoredAnswer, claim_key, remember_answer, request_hash
from booking.bookings.lifecycle import BookingState, Transition
from booking.bookings.limits import check_booking_limits
from booking.bookings.ports import Announcer, CalendarFiles, IntakeRecords, IntakeScreen
from booking.bookings.schemas import (
    BookingCreated,
    BookingIn,
    BookingView,
    Cancelled,
    PartnerStatus,
    SupportOut,
)
from booking.bookings.statuses import PARTNERS, BookingStatus, MessageKind, Recipient
from booking.bookings.tables import Booking, Partner
from booking.bookings.validation import CleanBooking, parse_instant, validate_booking
from booking.core import audit
from booking.core.audit import COUPLE, Actor, AuditAction
from booking.core.clients import address_digest
from booking.core.crypto import Keyring
from booking.core.db import LockSpace, lock, write_transaction
from booking.core.errors import NotFound, SlotUnavailable, ValidationFailed
from booking.core.links import Links
from booking.core.settings import Settings
from booking.core.timezones import Clock, epoch, rfc3339, zone
from booking.core.tokens import looks_like_token, token_hash
from booking.scheduling.services import Availability, AvailabilityService
from booking.scheduling.tables import ConsultationType, Therapist

# References are read aloud on the phone: no 0/O, 1/I/L.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{body[:4]}-{body[4:]}"


def couple_context(reference: str) -> str:
    """Associated data binding the couple's encrypted answers to their booking."""
    return f"intake:{reference}:couple"


def partner_context(reference: str, position: int) -> str:
    """Associated data binding a partner's encrypted answers to them."""
    return f"intake:{reference}:partner:{position}"


def cancel_reason_context(reference: str) -> str:
    """Associated data binding a booking's encrypted cancel reason to it."""
    return f"booking:{reference}:cancel-reason"


@dataclass(frozen=True, slots=True)
class Created:
    """A booking request's answer, and whether it repeats one already given (same key)."""

    booking: BookingCreated
    replayed: bool


class BookingService:
    """Creates and changes bookings; owns their transactions.

    `support` is what a booker whose answers raise a safety flag is shown; the intake checks
    and keeps answers (`screen`, `records`), the outbox queues messages (`announcer`), and
    notifications build the calendar file (`calendars`).
    """

    def __init__(
        self,
        settings: Settings,
        keyring: Keyring,
        clock: Clock,
        availability: AvailabilityService,
        support: SupportOut,
        *,
        screen: IntakeScreen,
        records: IntakeRecords,
        announcer: Announcer,
        calendars: CalendarFiles,
    ) -> None:
        self.settings = settings
        self.keyring = keyring
        self.clock = clock
        self.availability = availability
        self.support = support
        self.screen = screen
        self.records = records
        self.announcer = announcer
        self.calendars = calendars
        self.links = Links(settings)
        self.reminder_lead = (
            timedelta(hours=settings.reminder_hours) if settings.reminder_hours else None
        )

    # -- create -----------------------------------------------------------------------------

    async def create(self, data: BookingIn, idempotency_key: str | None, client: str) -> Created:
        """Book (or hold, for a type with a deposit) the slot.

        A repeat with the same Idempotency-Key and body returns the first answer, as the
        booking stands now, marked as a replay.
        """
        digest = request_hash(data)
        clean = await validate_booking(data, self.availability, self.screen)
        try:
            async with write_transaction():
                now = self.clock()
                if idempotency_key is not None:
                    stored = await claim_key(idempotency_key, digest, now)
                    if stored is not None:
                        return Created(await self._as_it_stands(stored, now), replayed=True)
                created = await self._insert(clean, now, client)
                if idempotency_key is not None:
                    await remember_answer(idempotency_key, created)
        except ExclusionViolationError:
            raise _slot_taken() from None
        return Created(created, replayed=False)

    async def _as_it_stands(self, stored: StoredAnswer, now: datetime) -> BookingCreated:
        """A stored answer with the booking's status as of `now`, and the link and the
        booker's support re-derived: neither is stored with the key."""
        if stored.booking_id is None:  # the booking was deleted since
            return stored.body
        booking = (
            await Booking.select(Booking.manage_generation, Booking.status, Booking.hold_expires_at)
            .where(Booking._meta.primary_key == stored.booking_id)
            .first()
        )
        if booking is None:
            return stored.body
        token = self.links.manage_token(stored.body.reference, booking["manage_generation"])
        # A replay after a cancellation says so.
        flagged = await self.records.booker_flagged_at_booking(stored.booking_id)
        return msgspec.structs.replace(
            stored.body,
            status=lifecycle.effective_status(
                BookingStatus(booking["status"]), booking["hold_expires_at"], now
            ),
            manage_url=self.links.manage_url(token),
            support=self.support if flagged else None,
        )

    async def _insert(self, clean: CleanBooking, now: datetime, client: str) -> BookingCreated:
        therapist, kind = clean.therapist, clean.consultation_type
        await lock(LockSpace.THERAPIST, therapist["id"])
        needs_deposit = kind["deposit_amount"] is not None
        digest = address_digest(self.settings.secret_key, client) if client else ""
        emails = [p.email for p in clean.partners]
        await check_booking_limits(self.settings, emails, needs_deposit, digest, now)
        await expire_overdue_holds(therapist["id"], clean.starts_at, clean.blocked_until, now)
        if not await self.availability.offers(kind, therapist, clean.starts_at, now):
            raise _slot_taken()

        reference = new_reference()
        hold_expires_at = (
            now + timedelta(minutes=kind["payment_hold_minutes"]) if needs_deposit else None
        )
        change = lifecycle.hold() if needs_deposit else lifecycle.confirm(None, now)
        intake = clean.intake
        manage_token = self.links.manage_token(reference, 0)
        (row,) = await Booking.insert(
            Booking(
                reference=reference,
                therapist=therapist["id"],
                consultation_type=kind["id"],
                status=change.status,
                mode=clean.mode,
                starts_at=clean.starts_at,
                ends_at=clean.ends_at,
                blocked_until=clean.blocked_until,
                hold_expires_at=hold_expires_at,
                created_at=now,
                updated_at=now,
                client_digest=digest,
                manage_token_hash=token_hash(manage_token),
                questionnaire_version=intake.questionnaire_version,
                couple_answers=self.keyring.encrypt_json(
                    intake.couple_answers, couple_context(reference)
                ),
                safety_flag=intake.booker_safety_flag,
                viewer_timezone=clean.viewer_timezone.key,
            )
        ).returning(Booking._meta.primary_key)
        booking_id = row["id"]
        for position, partner in enumerate(clean.partners, start=1):
            booker = position == 1
            (inserted,) = await Partner.insert(
                Partner(
                    booking=booking_id,
                    position=position,
                    name=partner.name,
                    email=partner.email,
                    phone=partner.phone,
                    pronouns=partner.pronouns,
                    intake_token_hash=token_hash(self.links.intake_token(reference, position, 0)),
                    answers=self.keyring.encrypt_json(
                        intake.booker_answers, partner_context(reference, 1)
                    )
                    if booker
                    else None,
                    questionnaire_version=intake.questionnaire_version if booker else "",
                    intake_completed_at=now if booker else None,
                    safety_flag=intake.booker_safety_flag if booker else False,
                    consents=intake.consents if booker else {},
                    consented_at=now if booker else None,
                )
            ).returning(Partner._meta.primary_key)
            if booker:
                await self.records.add_booker_version(
                    booking_id=booking_id,
                    partner_id=inserted["id"],
                    reference=reference,
                    intake=intake,
                    now=now,
                )
        await audit.record(
            AuditAction.INTAKE_SUBMITTED,
            actor=Actor.partner(1),
            booking=reference,
            record="couple+partner:1",
            client=client,
            at=now,
        )
        if intake.booker_safety_flag:  # the practice hears of it at once, in this transaction
            await self.announcer.notify_practice(
                booking_id, reference, MessageKind.SAFETY_ALERT, 0, now
            )
        await self._send(booking_id, reference, change, therapist, clean.starts_at, now)
        return BookingCreated(
            reference=reference,
            status=change.status,
            start=rfc3339(clean.starts_at.astimezone(clean.viewer_timezone)),
            end=rfc3339(clean.ends_at.astimezone(clean.viewer_timezone)),
            therapist=therapist["slug"],
            consultation_type=kind["slug"],
            mode=clean.mode,
            manage_url=self.links.manage_url(manage_token),
            # Online payment arrives with the deposits issue; until then a hold is taken.
            payment=None,
            support=self.support if clean.intake.booker_safety_flag else None,
            hold_expires_at=rfc3339(hold_expires_at) if hold_expires_at else None,
        )

    # -- manage -----------------------------------------------------------------------------

    async def reschedule_options(
        self, manage_token: str, first: date | None, tz: ZoneInfo
    ) -> Availability:
        """Open times to move the booking to: same therapist and type, its own time free."""
        booking = await self._by_manage_token(manage_token)
        kind = (
            await ConsultationType.select(ConsultationType.slug)
            .where(ConsultationType._meta.primary_key == booking["consultation_type"])
            .first()
        )
        therapist = await _therapist(booking["therapist"])
        kind = _found(kind, "consultation type")
        found = await self.availability.find(
            kind["slug"], therapist["slug"], first, tz=tz, moving=booking["id"]
        )
        current = epoch(booking["starts_at"])
        return Availability(found.timezone, [s for s in found.slots if s.start != current])

    async def calendar_file(self, manage_token: str) -> bytes:
        """The booking's event as an .ics file (METHOD:PUBLISH), as it stands now."""
        booking = await self._by_manage_token(manage_token)
        return await self.calendars.booking_file(booking["id"])

    async def view(self, manage_token: str) -> BookingView:
        booking = await self._by_manage_token(manage_token)
        return await self._view(booking)

    async def cancel(self, manage_token: str, reason: str | None, client: str) -> Cancelled:
        """Cancel; cancelling a cancelled booking again answers the same, not an error."""
        if reason is not None and len(reason) > 500:
            raise ValidationFailed.on("reason", "The reason may be at most 500 characters.")
        booking = await self._by_manage_token(manage_token)
        async with write_transaction():
            now = self.clock()
            current = await _reload(booking["id"])
            change = lifecycle.cancel(BookingState.of(current), now)
            if change is None:
                return Cancelled(status=BookingStatus.CANCELLED, refund=None)
            await Booking.update(
                {
                    Booking.status: change.status,
                    Booking.cancelled_at: now,
                    Booking.cancel_reason_encrypted: self.keyring.encrypt(
                        reason.strip().encode("utf-8"), cancel_reason_context(current["reference"])
                    )
                    if reason and reason.strip()
                    else None,
                    Booking.sequence: Booking.sequence + 1,
                    Booking.updated_at: now,
                }
            ).where(Booking._meta.primary_key == booking["id"])
            # An unpaid hold was never in a calendar: its cancellation announces nothing.
            therapist = await _therapist(current["therapist"]) if change.announce else None
            await self._send(
                booking["id"], current["reference"], change, therapist, current["starts_at"], now
            )
            await audit.record(
                AuditAction.BOOKING_CANCELLED,
                actor=COUPLE,
                booking=current["reference"],
                client=client,
                at=now,
            )
            await self._tell_practice_if_flagged(current, now)
        # Deposits are not taken online yet, so there is never anything to refund.
        return Cancelled(status=BookingStatus.CANCELLED, refund=None)

    async def reschedule(self, manage_token: str, start: str, client: str) -> BookingView:
        """Move the booking to another offered time with the same therapist."""
        new_start = parse_instant(start, "start", self.clock())
        booking = await self._by_manage_token(manage_token)
        kind = (
            await ConsultationType.select()
            .where(ConsultationType._meta.primary_key == booking["consultation_type"])
            .first()
        )
        therapist = (
            await Therapist.select()
            .where(Therapist._meta.primary_key == booking["therapist"])
            .first()
        )
        kind = _found(kind, "consultation type")
        therapist = _found(therapist, "therapist")
        duration = timedelta(minutes=kind["duration_minutes"])
        blocked = duration + timedelta(minutes=kind["buffer_after_minutes"])
        try:
            async with write_transaction():
                now = self.clock()
                await lock(LockSpace.THERAPIST, therapist["id"])
                current = await _reload(booking["id"])
                change = lifecycle.move(
                    BookingState.of(current), kind["reschedule_cutoff_hours"], now
                )
                await expire_overdue_holds(therapist["id"], new_start, new_start + blocked, now)
                if not await self.availability.offers(
                    kind, therapist, new_start, now, exclude_booking=booking["id"]
                ):
                    raise _slot_taken()
                await Booking.update(
                    {
                        Booking.starts_at: new_start,
                        Booking.ends_at: new_start + duration,
                        Booking.blocked_until: new_start + blocked,
                        Booking.sequence: Booking.sequence + 1,
                        Booking.updated_at: now,
                    }
                ).where(Booking._meta.primary_key == booking["id"])
                await audit.record(
                    AuditAction.BOOKING_RESCHEDULED,
                    actor=COUPLE,
                    booking=current["reference"],
                    client=client,
                    at=now,
                )
                await self._tell_practice_if_flagged(current, now)
                await self._send(
                    booking["id"], current["reference"], change, therapist, new_start, now
                )
        except ExclusionViolationError:
            raise _slot_taken() from None
        return await self._view(await _reload(booking["id"]))

    async def _send(
        self,
        booking_id: int,
        reference: str,
        change: Transition,
        therapist: dict[str, Any] | None,
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

    async def _tell_practice_if_flagged(self, booking: dict[str, Any], now: datetime) -> None:
        """Tell the practice that a flagged booking moves or is cancelled (nothing if unflagged);
        `booking` is its row as read before the change, which raises its SEQUENCE by one."""
        if booking["safety_flag"]:
            await self.announcer.notify_practice(
                booking["id"],
                booking["reference"],
                MessageKind.FLAGGED_CHANGE,
                booking["sequence"] + 1,
                now,
            )

    async def _announce(
        self,
        booking_id: int,
        reference: str,
        kind: MessageKind,
        sequence: int,
        therapist: dict[str, Any],
        now: datetime,
    ) -> None:
        """Queue one message per recipient, in the transaction of the change it announces."""
        wants_email = bool(therapist["email"]) and therapist["email_invitations"]
        recipients = (*PARTNERS, Recipient.THERAPIST) if wants_email else PARTNERS
        await self.announcer.announce(booking_id, reference, kind, sequence, recipients, now)

    async def _by_manage_token(self, token: str) -> dict[str, Any]:
        gone = NotFound("This booking link is not valid or has expired.")
        if not looks_like_token(token):
            raise gone
        booking = (
            await Booking.select().where(Booking.manage_token_hash == token_hash(token)).first()
        )
        if booking is None or not lifecycle.manage_link_open(booking["ends_at"], self.clock()):
            raise gone
        return booking

    async def _view(self, booking: dict[str, Any]) -> BookingView:
        now = self.clock()
        kind = (
            await ConsultationType.select(
                ConsultationType.slug, ConsultationType.reschedule_cutoff_hours
            )
            .where(ConsultationType._meta.primary_key == booking["consultation_type"])
            .first()
        )
        therapist = (
            await Therapist.select(Therapist.slug, Therapist.timezone)
            .where(Therapist._meta.primary_key == booking["therapist"])
            .first()
        )
        partners = await (
            Partner.select(Partner.name, Partner.intake_completed_at)
            .where(Partner.booking == booking["id"])
            .order_by(Partner.position)
        )
        kind = _found(kind, "consultation type")
        therapist = _found(therapist, "therapist")
        tz = _viewer_zone(booking, therapist["timezone"])
        state = BookingState.of(booking)
        status = lifecycle.status_of(state, now)
        return BookingView(
            reference=booking["reference"],
            status=status,
            start=rfc3339(booking["starts_at"].astimezone(tz)),
            end=rfc3339(booking["ends_at"].astimezone(tz)),
            therapist=therapist["slug"],
            consultation_type=kind["slug"],
            mode=booking["mode"],
            partners=[
                PartnerStatus(name=p["name"], intake_complete=p["intake_completed_at"] is not None)
                for p in partners
            ],
            can_cancel=lifecycle.cancel_refusal(state, now) is None,
            can_reschedule=lifecycle.move_refusal(state, kind["reschedule_cutoff_hours"], now)
            is None,
            refund_on_cancel=None,
            timezone=tz.key,
            hold_expires_at=rfc3339(booking["hold_expires_at"])
            if status == BookingStatus.PENDING_PAYMENT and booking["hold_expires_at"]
            else None,
        )


def _viewer_zone(booking: dict[str, Any], therapist_zone: str) -> ZoneInfo:
    try:
        return zone(booking["viewer_timezone"] or therapist_zone)
    except ValueError:
        return zone(therapist_zone)


def _slot_taken() -> SlotUnavailable:
    return SlotUnavailable("That time is no longer available. Please choose another time.")


def _found(row: dict[str, Any] | None, what: str) -> dict[str, Any]:
    """`row`, or a 404 when the booking's `what` is gone (the foreign keys keep it; a row
    removed by hand must still give a plain answer, whatever the interpreter's flags)."""
    if row is None:
        raise NotFound(f"This booking's {what} no longer exists.")
    return row


async def _therapist(therapist_id: int) -> dict[str, Any]:
    therapist = await Therapist.select().where(Therapist._meta.primary_key == therapist_id).first()
    if therapist is None:
        raise NotFound("This booking's therapist no longer exists.")
    return therapist


async def _reload(booking_id: int) -> dict[str, Any]:
    booking = await Booking.select().where(Booking._meta.primary_key == booking_id).first()
    if booking is None:
        raise NotFound("This booking no longer exists.")
    return booking
