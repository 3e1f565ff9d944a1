"""Turning an outbox row into an email and sending it, once.

The actor gives an outbox id; the row and the booking are re-read, the message is built from
the booking as it stands, sent, and the row marked. A row already done is left alone, and a
message made obsolete by a later change (an invitation after a move, a reminder after a
cancellation) is skipped rather than sent. Exactly-once is impossible over SMTP: a crash after
the server accepted a message and before the row is marked sends it again, with the same
Message-ID (docs/decisions.md, "The outbox").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from booking.bookings.services import Links
from booking.bookings.tables import Booking, Partner
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
    RecipientRole,
    compose_message,
    location_text,
    message_id_for,
    render_email,
)
from booking.notifications.transport import DeliveryError, Transport
from booking.scheduling.tables import ConsultationType, Therapist
from booking.settings import Settings
from booking.timezones import Clock, zone

log = logging.getLogger("booking.notifications")


@dataclass(frozen=True, slots=True)
class BookingFacts:
    """A booking with everything a message about it may say (never intake answers)."""

    booking: dict[str, Any]
    partners: list[dict[str, Any]]
    therapist: dict[str, Any]
    kind: dict[str, Any]

    def partner(self, position: int) -> dict[str, Any]:
        return self.partners[position - 1]


async def load_facts(booking_id: int) -> BookingFacts | None:
    booking = (
        await Booking.select(
            *[c for c in Booking._meta.columns if c._meta.name not in ("couple_answers",)]
        )
        .where(Booking._meta.primary_key == booking_id)
        .first()
    )
    if booking is None:
        return None
    partners = await (
        Partner.select(
            Partner.position,
            Partner.name,
            Partner.email,
            Partner.phone,
            Partner.intake_completed_at,
            Partner.intake_generation,
        )
        .where(Partner.booking == booking_id)
        .order_by(Partner.position)
    )
    therapist = (
        await Therapist.select().where(Therapist._meta.primary_key == booking["therapist"]).first()
    )
    kind = (
        await ConsultationType.select()
        .where(ConsultationType._meta.primary_key == booking["consultation_type"])
        .first()
    )
    if therapist is None or kind is None or len(partners) != 2:
        return None
    return BookingFacts(booking, partners, therapist, kind)


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def event_for(
    facts: BookingFacts, settings: Settings, stamp: datetime, *, for_feed: bool = False
) -> ConsultationEvent:
    """The booking's one calendar event as it stands now (same UID in every message)."""
    booking, therapist, kind = facts.booking, facts.therapist, facts.kind
    couple = " & ".join(first_name(p["name"]) for p in facts.partners)
    if for_feed and booking["mode"] == "phone":
        # The feed is read by a third-party calendar service: it says how, never the number.
        where = "Phone call"
    else:
        where = location_text(
            booking["mode"],
            practice_address=settings.practice_address,
            video_url=therapist["video_url"] or f"{settings.public_base_url}/video",
            phone=facts.partner(1)["phone"] or "the number you gave us",
        )
    attendees: tuple[Attendee, ...] = ()
    if not for_feed:
        attendees = tuple(Attendee(email=p["email"], name=p["name"]) for p in facts.partners)
        if therapist["email"]:
            attendees += (Attendee(email=therapist["email"], name=therapist["name"]),)
    sender_name, sender_email = _split_address(settings.mail_from)
    return ConsultationEvent(
        uid=booking_uid(booking["reference"], settings.domain),
        sequence=booking["sequence"],
        cancelled=booking["status"] == "cancelled",
        starts_at=booking["starts_at"],
        ends_at=booking["ends_at"],
        summary=f"{kind['name']}: {couple}"
        if for_feed
        else f"{kind['name']} with {therapist['name']}",
        description=(
            f"{kind['name']} ({kind['duration_minutes']} minutes) at {settings.practice_name}. "
            "A first conversation to see whether couples therapy with us is a good fit."
        ),
        location=where,
        organizer_email=sender_email,
        organizer_name=sender_name or settings.practice_name,
        attendees=attendees,
        stamp=stamp,
    )


def _split_address(value: str) -> tuple[str, str]:
    from email.utils import parseaddr

    name, address = parseaddr(value)
    return name, address


class Deliverer:
    """Sends the message of one outbox row and records what happened."""

    def __init__(self, settings: Settings, transport: Transport, clock: Clock) -> None:
        self.settings = settings
        self.transport = transport
        self.clock = clock
        self.links = Links(settings)
        self.lease = timedelta(seconds=settings.outbox_lease_seconds)

    async def deliver(self, outbox_id: int) -> str:
        """Send the row's message unless it is done or obsolete; returns the row's status."""
        row = await outbox.load(outbox_id)
        if row is None or row["status"] != "pending":
            return row["status"] if row else "missing"
        facts = await load_facts(row["booking"])
        reason = _obsolete(row, facts, self.clock())
        if reason is not None or facts is None:
            await outbox.mark_skipped(outbox_id, reason or "booking gone")
            return "skipped"
        if not await outbox.take_for_delivery(row, self.clock(), self.lease):
            return "taken"  # the same row, handed over twice, is being sent by another delivery
        message = self.build(row, facts)
        if message is None:
            await outbox.mark_skipped(outbox_id, "no address for this recipient")
            return "skipped"
        try:
            await self.transport.send(message)
        except DeliveryError as exc:
            status = await outbox.mark_failed_attempt(
                outbox_id, str(exc), exc.permanent, self.clock()
            )
            log.warning(
                "message %s (%s to %s) not sent: %s; now %s",
                outbox_id,
                row["kind"],
                row["recipient"],
                exc,
                status,
            )
            return status
        await outbox.mark_sent(outbox_id, str(message["Message-ID"]), self.clock())
        return "sent"

    def build(self, row: dict[str, Any], facts: BookingFacts) -> EmailMessage | None:
        recipient: str = row["recipient"]
        kind: Kind = row["kind"]
        booking, therapist = facts.booking, facts.therapist
        reference = booking["reference"]
        if recipient == "therapist":
            if not therapist["email"]:
                return None
            to_name, to_email = therapist["name"], therapist["email"]
            role: RecipientRole = "therapist"
            tz_name = therapist["timezone"]
        else:
            partner = facts.partner(int(recipient.split(":")[1]))
            to_name, to_email = partner["name"], partner["email"]
            role = "booker" if partner["position"] == 1 else "partner"
            tz_name = booking["viewer_timezone"] or therapist["timezone"]
        manage_url = None
        intake_url = None
        if role != "therapist":
            token = self.links.manage_token(reference, booking["manage_generation"])
            manage_url = self.links.manage_url(token)
        if role == "partner" and kind != "cancellation":
            second = facts.partner(2)
            if second["intake_completed_at"] is None:
                token = self.links.intake_token(reference, 2, second["intake_generation"])
                intake_url = self.links.intake_url(token)
        now = self.clock()
        context = EmailContext(
            kind=kind,
            recipient_name=first_name(to_name),
            recipient_role=role,
            practice_name=self.settings.practice_name,
            practice_address=self.settings.practice_address,
            therapist_name=therapist["name"],
            consultation_name=facts.kind["name"],
            duration_minutes=facts.kind["duration_minutes"],
            starts_at=booking["starts_at"].astimezone(zone(tz_name)),
            timezone_name=tz_name,
            mode=booking["mode"],
            location_text=event_for(facts, self.settings, now).location,
            manage_url=manage_url,
            intake_url=intake_url,
            couple_names=" and ".join(p["name"] for p in facts.partners)
            if role == "therapist"
            else None,
        )
        ics: bytes | None = None
        method: Method | None = None
        if kind != "reminder":
            method = "CANCEL" if kind == "cancellation" else "REQUEST"
            ics = build_invitation(event_for(facts, self.settings, now), method)
        return compose_message(
            sender=self.settings.mail_from,
            reply_to=self.settings.mail_reply_to,
            to=f"{to_name} <{to_email}>",
            rendered=render_email(context),
            ics=ics,
            method=method,
            message_id=message_id_for(row["idempotency_key"], self.settings.domain),
            date=now,
        )


def _obsolete(row: dict[str, Any], facts: BookingFacts | None, now: datetime) -> str | None:
    """Why the row's message should no longer be sent, or None."""
    if facts is None:
        return "booking gone"
    booking = facts.booking
    if row["kind"] == "cancellation":
        return None if booking["status"] == "cancelled" else "booking not cancelled"
    if booking["status"] != "confirmed":
        return f"booking {booking['status']}"
    if row["sequence"] < booking["sequence"]:
        return "superseded by a later change"
    if row["kind"] == "reminder" and booking["starts_at"] <= now:
        return "the consultation has started"
    return None
