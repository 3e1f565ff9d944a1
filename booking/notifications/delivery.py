"""Turning an outbox row into an email and sending it, once.

The actor gives an outbox id; the row and the booking are re-read, the message is built from
the booking as it stands, sent to the one address stored for its recipient, and the row
marked. A row already done is left alone, and a message made obsolete by a later change (an
invitation after a move, a reminder after a cancellation, a link renewed again) is skipped
rather than sent; a notice to the practice never is. Exactly-once is impossible over SMTP:
a crash after the server accepted a message and before the row is marked sends it again, with
the same Message-ID (docs/decisions.md, "The outbox").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Literal, cast

from booking.bookings import lifecycle
from booking.bookings.records import BookingRecord, PartnerRecord, load_booking, load_partners
from booking.bookings.statuses import BookingStatus, MessageKind, Recipient
from booking.core.links import Links
from booking.core.settings import Settings
from booking.core.timezones import Clock, zone
from booking.notifications import outbox
from booking.notifications.calendar import (
    Attendee,
    ConsultationEvent,
    Method,
    booking_uid,
    build_invitation,
)
from booking.notifications.messages import (
    EmailContext,
    Kind,
    NoticeKind,
    PracticeNotice,
    RecipientRole,
    compose_message,
    location_text,
    message_id_for,
    render_email,
    render_practice_notice,
)
from booking.notifications.ports import DepositOutcomes, PaymentWork
from booking.notifications.records import OutboxRecord
from booking.notifications.transport import DeliveryError, Transport
from booking.scheduling.records import (
    ConsultationTypeRecord,
    TherapistRecord,
    load_consultation_type,
    load_therapist,
)

log = logging.getLogger("booking.notifications")


# The emails that carry the booking's calendar event.
CALENDAR_KINDS: tuple[Kind, ...] = ("invitation", "update", "cancellation", "reassigned")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message and the one address it goes to (the SMTP envelope recipient)."""

    message: EmailMessage
    recipient: str


@dataclass(frozen=True, slots=True)
class BookingFacts:
    """A booking with everything a message about it may say (never intake answers)."""

    booking: BookingRecord
    # Both partners, by position.
    partners: tuple[PartnerRecord, PartnerRecord]
    therapist: TherapistRecord
    consultation_type: ConsultationTypeRecord

    def partner(self, position: int) -> PartnerRecord:
        return self.partners[position - 1]


async def load_facts(booking_id: int) -> BookingFacts | None:
    """The booking as it stands, or None when it, its therapist, its type or a partner is gone."""
    booking = await load_booking(booking_id)
    if booking is None:
        return None
    partners = await load_partners(booking_id)
    therapist = await load_therapist(booking.therapist_id)
    consultation_type = await load_consultation_type(booking.consultation_type_id)
    if therapist is None or consultation_type is None or len(partners) != 2:
        return None
    first, second = partners
    return BookingFacts(booking, (first, second), therapist, consultation_type)


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def event_for(
    facts: BookingFacts, settings: Settings, stamp: datetime, *, for_feed: bool = False
) -> ConsultationEvent:
    """The booking's one calendar event as it stands now (same UID in every message)."""
    booking, therapist = facts.booking, facts.therapist
    consultation = facts.consultation_type.name
    couple = " & ".join(first_name(p.name) for p in facts.partners)
    if for_feed and booking.mode == "phone":
        # The feed is read by a third-party calendar service: it says how, never the number.
        where = "Phone call"
    else:
        where = location_text(
            booking.mode,
            practice_address=settings.practice_address,
            video_url=therapist.video_url or f"{settings.public_base_url}/video",
            phone=facts.partner(1).phone or "the number you gave us",
        )
    attendees: tuple[Attendee, ...] = ()
    if not for_feed:
        attendees = tuple(Attendee(email=p.email, name=p.name) for p in facts.partners)
        if therapist.email:
            attendees += (Attendee(email=therapist.email, name=therapist.name),)
    sender = settings.sender
    return ConsultationEvent(
        uid=booking_uid(booking.reference, settings.domain),
        sequence=booking.sequence,
        cancelled=booking.status == BookingStatus.CANCELLED,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        summary=f"{consultation}: {couple}"
        if for_feed
        else f"{consultation} with {therapist.name}",
        description=(
            f"{consultation} ({facts.consultation_type.duration_minutes} minutes) "
            f"at {settings.practice_name}. "
            "A first conversation to see whether couples therapy with us is a good fit."
        ),
        location=where,
        organizer_email=sender.addr_spec,
        organizer_name=sender.display_name or settings.practice_name,
        attendees=attendees,
        stamp=stamp,
    )


def mailbox(name: str, email: str) -> Address:
    """The header address of a person: their stored email, their name as its display name.

    The email package quotes the display name, so whatever a stored name holds (commas, angle
    brackets, an address) it stays one name of one address. Raises DeliveryError (permanent)
    for a stored email that is not an address.
    """
    try:
        return Address(display_name=name, addr_spec=email)
    except (ValueError, IndexError):
        raise DeliveryError("the stored address cannot be used", permanent=True) from None


class Deliverer:
    """Sends the message of one outbox row and records what happened."""

    def __init__(
        self,
        settings: Settings,
        transport: Transport,
        clock: Clock,
        *,
        payment_work: PaymentWork | None = None,
        deposit_outcomes: DepositOutcomes | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.clock = clock
        # The payments domain's part: rows of work for the payment provider, and what an
        # email says of the deposit (None: no such rows are run, no such words are written).
        self.payment_work = payment_work
        self.deposit_outcomes = deposit_outcomes
        self.links = Links(settings)
        self.lease = timedelta(seconds=settings.outbox_lease_seconds)

    async def deliver(self, outbox_id: int) -> str:
        """Send the row's message unless it is done or obsolete; returns the row's status."""
        row = await outbox.load(outbox_id)
        if row is None or row.status != "pending":
            return row.status if row else "missing"
        if row.kind.is_payment_job:
            return await self._run_payment_work(row)
        facts = await load_facts(row.booking_id)
        if facts is not None and row.recipient is Recipient.FORMER_THERAPIST:
            facts = await _as_former_therapist(facts, row)
        reason = _obsolete(row, facts, self.clock())
        if reason is not None or facts is None:
            await outbox.mark_skipped(outbox_id, reason or "booking gone")
            return "skipped"
        if not await outbox.take_for_delivery(row, self.clock(), self.lease):
            return "taken"  # the same row, handed over twice, is being sent by another delivery
        try:
            deposit_outcome = (
                await self.deposit_outcomes.outcome(row.booking_id, row.kind.value)
                if self.deposit_outcomes is not None and row.recipient.position is not None
                else None
            )
            outgoing = self.build(row, facts, deposit_outcome)
            if outgoing is None:
                await outbox.mark_skipped(outbox_id, "no address for this recipient")
                return "skipped"
            await self.transport.send(
                outgoing.message,
                sender=self.settings.sender.addr_spec,
                recipient=outgoing.recipient,
            )
        except DeliveryError as exc:
            status = await outbox.mark_failed_attempt(
                outbox_id, str(exc), exc.permanent, self.clock()
            )
            log.warning(
                "message %s (%s to %s) not sent: %s; now %s",
                outbox_id,
                row.kind,
                row.recipient,
                exc,
                status,
            )
            return status
        await outbox.mark_sent(outbox_id, str(outgoing.message["Message-ID"]), self.clock())
        return "sent"

    async def _run_payment_work(self, row: OutboxRecord) -> str:
        """Run a row of work for the payment provider, with the outbox's lease and retries."""
        if self.payment_work is None:
            # The lease runs out and a process that runs payment work claims the row again.
            return "waiting"
        if not await outbox.take_for_delivery(row, self.clock(), self.lease):
            return "taken"
        try:
            done = await self.payment_work.run(row)
        except DeliveryError as exc:
            status = await outbox.mark_failed_attempt(row.id, str(exc), exc.permanent, self.clock())
            log.warning("payment work %s (%s) not done: %s; now %s", row.id, row.kind, exc, status)
            return status
        await outbox.mark_sent(row.id, done, self.clock())
        return "sent"

    def build(
        self, row: OutboxRecord, facts: BookingFacts, deposit_outcome: str | None = None
    ) -> Outgoing | None:
        """The row's message and its one envelope recipient; None when there is no address.

        `deposit_outcome`: what a partner's email says of the deposit (DepositOutcomes)."""
        recipient = row.recipient
        if recipient is Recipient.PRACTICE:
            return self.build_notice(row, facts)
        row_kind = row.kind
        # The outbox writes a partner or therapist no kind but the emails' own.
        kind = "new_link" if row_kind.is_link else cast(Kind, row_kind.value)
        booking, therapist = facts.booking, facts.therapist
        reference = booking.reference
        if recipient in (Recipient.THERAPIST, Recipient.FORMER_THERAPIST):
            if not therapist.email:
                return None
            to_name, to_email = therapist.name, therapist.email
            role: RecipientRole = "therapist"
            tz_name = therapist.timezone
        else:
            partner = facts.partner(_position(recipient))
            to_name, to_email = partner.name, partner.email
            role = "booker" if partner.position == 1 else "partner"
            tz_name = booking.viewer_timezone or therapist.timezone
        manage_url = None
        intake_url = None
        if role != "therapist" and row_kind is not MessageKind.NEW_INTAKE_LINK:
            token = self.links.manage_token(reference, booking.manage_generation)
            manage_url = self.links.manage_url(token)
        if row_kind is MessageKind.NEW_INTAKE_LINK:
            # The renewed link of this partner alone, whoever they are.
            own = facts.partner(_position(recipient))
            token = self.links.intake_token(reference, own.position, own.intake_generation)
            intake_url = self.links.intake_url(token)
        elif role == "partner" and kind not in ("cancellation", "new_link"):
            second = facts.partner(2)
            if second.intake_completed_at is None:
                token = self.links.intake_token(reference, 2, second.intake_generation)
                intake_url = self.links.intake_url(token)
        now = self.clock()
        context = EmailContext(
            kind=kind,
            recipient_name=first_name(to_name),
            recipient_role=role,
            practice_name=self.settings.practice_name,
            practice_address=self.settings.practice_address,
            therapist_name=therapist.name,
            consultation_name=facts.consultation_type.name,
            duration_minutes=facts.consultation_type.duration_minutes,
            starts_at=booking.starts_at.astimezone(zone(tz_name)),
            timezone_name=tz_name,
            mode=booking.mode,
            location_text=event_for(facts, self.settings, now).location,
            manage_url=manage_url,
            intake_url=intake_url,
            couple_names=" and ".join(p.name for p in facts.partners)
            if role == "therapist"
            else None,
            deposit_outcome=deposit_outcome if role != "therapist" else None,
        )
        ics: bytes | None = None
        method: Method | None = None
        if kind in CALENDAR_KINDS:
            leaving = recipient is Recipient.FORMER_THERAPIST
            method = "CANCEL" if kind == "cancellation" or leaving else "REQUEST"
            event = event_for(facts, self.settings, now)
            if leaving:
                # Removed from the event (RFC 5546 §3.2.5): the CANCEL names only them.
                event = replace(event, attendees=(Attendee(therapist.email, therapist.name),))
            ics = build_invitation(event, method)
        message = compose_message(
            sender=self.settings.sender,
            reply_to=self.settings.reply_to,
            to=mailbox(to_name, to_email),
            rendered=render_email(context),
            ics=ics,
            method=method,
            message_id=message_id_for(row.dedupe_key, self.settings.domain),
            date=now,
        )
        return Outgoing(message, to_email)

    def build_notice(self, row: OutboxRecord, facts: BookingFacts) -> Outgoing:
        """A notice to the practice: the reference and the time as it stands; no calendar, and
        nothing that says who answered what."""
        booking = facts.booking
        # The outbox writes the practice no kind but a notice's.
        kind = cast(NoticeKind, row.kind.value)
        # A cancellation is a booking's last change: a flagged change that speaks for the
        # booking's current SEQUENCE of a cancelled booking is that cancellation, any other a move.
        cancelled = booking.status == BookingStatus.CANCELLED and row.sequence >= booking.sequence
        moved_or_cancelled: Literal["moved", "cancelled"] = "cancelled" if cancelled else "moved"
        notice = PracticeNotice(
            kind=kind,
            practice_name=self.settings.practice_name,
            reference=booking.reference,
            starts_at=booking.starts_at,
            timezone_name=self.settings.practice_timezone,
            change=moved_or_cancelled if row.kind is MessageKind.FLAGGED_CHANGE else "",
        )
        alert = self.settings.practice_alert
        message = compose_message(
            sender=self.settings.sender,
            reply_to=None,
            to=alert,
            rendered=render_practice_notice(notice),
            ics=None,
            method=None,
            message_id=message_id_for(row.dedupe_key, self.settings.domain),
            date=self.clock(),
        )
        return Outgoing(message, alert.addr_spec)


async def _as_former_therapist(facts: BookingFacts, row: OutboxRecord) -> BookingFacts | None:
    """The facts as the therapist a reassigned booking left sees them (their own name on
    the event being removed); None when they are gone."""
    former = await load_therapist(row.therapist_id) if row.therapist_id is not None else None
    return None if former is None else replace(facts, therapist=former)


def _obsolete(row: OutboxRecord, facts: BookingFacts | None, now: datetime) -> str | None:
    """Why the row's message should no longer be sent (booking.bookings.lifecycle), or None."""
    if facts is None:
        return "booking gone"
    if (
        row.recipient is Recipient.FORMER_THERAPIST
        and facts.booking.therapist_id == row.therapist_id
    ):
        return "the booking is back with this therapist"
    message = row.message
    position = message.recipient.position
    generation = facts.partner(position).intake_generation if position else 0
    return lifecycle.obsolete(message, facts.booking.state, now, generation)


def _position(recipient: Recipient) -> int:
    """The partner position of a row addressed to a partner (the outbox writes no other)."""
    position = recipient.position
    if position is None:
        raise DeliveryError(f"a {recipient} row carries no partner", permanent=True)
    return position
