"""Revoking a booking's links: a new generation, the old link dead from the commit on, and the
new link on its way to the person it belongs to.

A link's token is derived from its generation (booking/core/tokens.py), and the stored hash is what
a visit is looked up by; so revoking raises the generation, stores the new token's hash, and
queues the email in the same transaction. The staff side and `booking links revoke` call this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from booking.bookings import lifecycle
from booking.bookings.lifecycle import BookingState
from booking.bookings.ports import Announcer
from booking.bookings.statuses import PARTNERS, MessageKind, Recipient
from booking.bookings.tables import Booking, Partner
from booking.core import audit
from booking.core.audit import Actor, AuditAction
from booking.core.db import write_transaction
from booking.core.errors import NotFound, TooLate, ValidationFailed
from booking.core.links import Links
from booking.core.settings import Settings
from booking.core.timezones import Clock
from booking.core.tokens import token_hash


@dataclass(frozen=True, slots=True)
class RevokedLink:
    """What was replaced: the manage link (sent to both partners) or one partner's intake link."""

    reference: str
    link: Literal["manage", "intake"]
    partner: int | None
    generation: int


class LinkService:
    """Replaces leaked or unwanted links; every revocation is audited under its actor."""

    def __init__(self, settings: Settings, clock: Clock, announcer: Announcer) -> None:
        self.links = Links(settings)
        self.clock = clock
        self.announcer = announcer

    async def revoke(
        self, reference: str, partner: int | None, actor: Actor, client: str = ""
    ) -> RevokedLink:
        """Replace the booking's manage link (`partner` None; each partner is sent the new one)
        or partner `partner`'s intake link (sent to that partner only).

        Raises NotFound for an unknown reference, ValidationFailed for a partner other than 1
        or 2, TooLate for an intake link of a booking that no longer takes answers.
        """
        reference = reference.strip().upper()
        if partner is not None and partner not in (1, 2):
            raise ValidationFailed.on("partner", "A booking's partners are 1 and 2.")
        async with write_transaction():
            now = self.clock()
            booking = (
                await Booking.select(
                    Booking._meta.primary_key,
                    Booking.status,
                    Booking.starts_at,
                    Booking.ends_at,
                    Booking.hold_expires_at,
                    Booking.erased_at,
                )
                .where(Booking.reference == reference)
                .first()
            )
            # An erased booking has no one left to send a link to.
            if booking is None or booking["erased_at"] is not None:
                raise NotFound("No booking has this reference.")
            if partner is None:
                generation = await self._next_manage_generation(booking["id"], reference)
                await self.announcer.announce(
                    booking["id"], reference, MessageKind.NEW_MANAGE_LINK, generation, PARTNERS, now
                )
            else:
                if not lifecycle.intake_open(BookingState.of(booking), now):
                    raise TooLate("This booking's intake links no longer open.")
                generation = await self._next_intake_generation(booking["id"], reference, partner)
                recipients = [Recipient.partner(partner)]
                await self.announcer.announce(
                    booking["id"],
                    reference,
                    MessageKind.NEW_INTAKE_LINK,
                    generation,
                    recipients,
                    now,
                )
            record = "manage link" if partner is None else f"partner:{partner} intake link"
            await audit.record(
                AuditAction.LINK_REVOKED,
                actor=actor,
                booking=reference,
                record=record,
                client=client,
                at=now,
            )
        return RevokedLink(
            reference, "manage" if partner is None else "intake", partner, generation
        )

    async def _next_manage_generation(self, booking_id: int, reference: str) -> int:
        # Raising the counter in the database locks the row: a concurrent revocation waits
        # and then takes the generation after this one.
        (row,) = await (
            Booking.update({Booking.manage_generation: Booking.manage_generation + 1})
            .where(Booking._meta.primary_key == booking_id)
            .returning(Booking.manage_generation)
        )
        generation = int(row["manage_generation"])
        token = self.links.manage_token(reference, generation)
        await Booking.update({Booking.manage_token_hash: token_hash(token)}).where(
            Booking._meta.primary_key == booking_id
        )
        return generation

    async def _next_intake_generation(self, booking_id: int, reference: str, position: int) -> int:
        where = (Partner.booking == booking_id) & (Partner.position == position)
        rows = await (
            Partner.update({Partner.intake_generation: Partner.intake_generation + 1})
            .where(where)
            .returning(Partner.intake_generation)
        )
        if not rows:
            raise NotFound("This booking has no such partner.")
        generation = int(rows[0]["intake_generation"])
        token = self.links.intake_token(reference, position, generation)
        await Partner.update({Partner.intake_token_hash: token_hash(token)}).where(where)
        return generation
