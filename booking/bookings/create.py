"""Booking a consultation: a new booking (or an unpaid hold, for a type with a deposit), and
the same answer again for a request repeated under its Idempotency-Key.

No double booking is decided by the database: on PostgreSQL an exclusion constraint over the
therapist's blocked time (migration m0004) with a per-therapist advisory lock held while the
slot and the daily cap are checked; on SQLite the check and the insert run in one
BEGIN IMMEDIATE transaction, which serialises writers.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec
from asyncpg.exceptions import ExclusionViolationError

from booking.bookings import lifecycle
from booking.bookings.changes import ChangeMessages, slot_taken
from booking.bookings.contexts import couple_context, partner_context
from booking.bookings.holds import expire_overdue_holds
from booking.bookings.idempotency import StoredAnswer, claim_key, remember_answer, request_hash
from booking.bookings.limits import check_booking_limits
from booking.bookings.ports import Announcer, IntakeRecords, IntakeScreen
from booking.bookings.schemas import BookingCreated, BookingIn, PaymentOut, SupportOut
from booking.bookings.statuses import BookingStatus, MessageKind
from booking.bookings.tables import Booking, Partner
from booking.bookings.validation import CleanBooking, validate_booking
from booking.core import audit
from booking.core.audit import Actor, AuditAction
from booking.core.clients import address_digest
from booking.core.crypto import Keyring
from booking.core.db import LockSpace, lock, write_transaction
from booking.core.errors import NotBookableOnline
from booking.core.links import Links
from booking.core.settings import Settings
from booking.core.timezones import Clock, rfc3339
from booking.core.tokens import token_hash
from booking.scheduling.records import ConsultationTypeRecord
from booking.scheduling.schemas import Money
from booking.scheduling.services import AvailabilityService

NOT_BOOKABLE_ONLINE = (
    "This consultation needs a deposit, and online payment is not available at the moment. "
    "Please contact the practice to book it."
)

# References are read aloud on the phone: no 0/O, 1/I/L.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{body[:4]}-{body[4:]}"


@dataclass(frozen=True, slots=True)
class Created:
    """A booking request's answer, and whether it repeats one already given (same key)."""

    booking: BookingCreated
    replayed: bool


def reminder_lead(settings: Settings) -> timedelta | None:
    """How long before the start reminders go (None: the practice sends none)."""
    return timedelta(hours=settings.reminder_hours) if settings.reminder_hours else None


class BookingCreation:
    """Creates bookings; owns their transactions.

    `support` is what a booker whose answers raise a safety flag is shown; the intake checks
    and keeps answers (`screen`, `records`), the outbox queues messages (`announcer`).
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
    ) -> None:
        self.settings = settings
        self.keyring = keyring
        self.clock = clock
        self.availability = availability
        self.support = support
        self.screen = screen
        self.records = records
        self.messages = ChangeMessages(announcer, reminder_lead(settings))
        self.links = Links(settings)

    async def create(self, data: BookingIn, idempotency_key: str | None, client: str) -> Created:
        """Book (or hold, for a type with a deposit) the slot.

        A repeat with the same Idempotency-Key and body returns the first answer, as the
        booking stands now, marked as a replay.
        """
        digest = request_hash(data)
        clean = await validate_booking(data, self.availability, self.screen)
        if (
            clean.consultation_type.deposit_amount is not None
            and self.settings.is_production
            and not self.settings.takes_payments
        ):
            # Shown with its fee, never held: nobody could pay the deposit.
            raise NotBookableOnline(NOT_BOOKABLE_ONLINE)
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
            raise slot_taken() from None
        return Created(created, replayed=False)

    def _payment(
        self,
        consultation_type: ConsultationTypeRecord,
        manage_token: str,
        hold_expires_at: datetime | None,
    ) -> PaymentOut | None:
        """Where and how much a new hold pays (None: free, or no online payment here)."""
        amount = consultation_type.deposit_amount
        key = self.settings.stripe_publishable_key
        if amount is None or hold_expires_at is None or not self.settings.takes_payments:
            return None
        return PaymentOut(
            publishable_key=key or "",
            amount=Money(amount, consultation_type.currency.lower()),
            expires_at=rfc3339(hold_expires_at),
            pay_url=self.links.pay_url(manage_token),
        )

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
        payment = stored.body.payment and msgspec.structs.replace(
            stored.body.payment, pay_url=self.links.pay_url(token)
        )
        return msgspec.structs.replace(
            stored.body,
            payment=payment,
            status=lifecycle.effective_status(
                BookingStatus(booking["status"]), booking["hold_expires_at"], now
            ),
            manage_url=self.links.manage_url(token),
            support=self.support if flagged else None,
        )

    async def _insert(self, clean: CleanBooking, now: datetime, client: str) -> BookingCreated:
        therapist, consultation_type = clean.therapist, clean.consultation_type
        await lock(LockSpace.THERAPIST, therapist.id)
        needs_deposit = consultation_type.deposit_amount is not None
        digest = address_digest(self.settings.secret_key, client) if client else ""
        emails = [p.email for p in clean.partners]
        await check_booking_limits(self.settings, emails, needs_deposit, digest, now)
        await expire_overdue_holds(therapist.id, clean.starts_at, clean.blocked_until, now)
        if not await self.availability.offers(consultation_type, therapist, clean.starts_at, now):
            raise slot_taken()

        reference = new_reference()
        hold_expires_at = (
            now + timedelta(minutes=consultation_type.payment_hold_minutes)
            if needs_deposit
            else None
        )
        change = lifecycle.hold() if needs_deposit else lifecycle.confirm(None, now)
        intake = clean.intake
        manage_token = self.links.manage_token(reference, 0)
        (row,) = await Booking.insert(
            Booking(
                reference=reference,
                therapist=therapist.id,
                consultation_type=consultation_type.id,
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
            await self.messages.notify_practice(
                booking_id, reference, MessageKind.SAFETY_ALERT, 0, now
            )
        await self.messages.send(booking_id, reference, change, therapist, clean.starts_at, now)
        return BookingCreated(
            reference=reference,
            status=change.status,
            start=rfc3339(clean.starts_at.astimezone(clean.viewer_timezone)),
            end=rfc3339(clean.ends_at.astimezone(clean.viewer_timezone)),
            therapist=therapist.slug,
            consultation_type=consultation_type.slug,
            mode=clean.mode,
            manage_url=self.links.manage_url(manage_token),
            payment=self._payment(consultation_type, manage_token, hold_expires_at),
            support=self.support if clean.intake.booker_safety_flag else None,
            hold_expires_at=rfc3339(hold_expires_at) if hold_expires_at else None,
        )
