"""A partner's own private intake, behind their link; re-encryption under a new key."""

from __future__ import annotations

from typing import Any

from booking.audit.services import record_event
from booking.bookings.schemas import PartnerIntakeDone, PartnerIntakeIn, PartnerIntakeView
from booking.bookings.services import (
    couple_context,
    partner_context,
    support_out,
    write_transaction,
)
from booking.bookings.tables import LIVE_STATUSES, Booking, Partner
from booking.errors import FieldError, NotFound, ValidationFailed
from booking.intake.consents import Support, load_consents, validate_consents
from booking.intake.crypto import Keyring
from booking.intake.questionnaire import load_questionnaire, raises_safety_flag, validate_answers
from booking.notifications.outbox import queue_practice_notice
from booking.timezones import Clock, utc_now
from booking.tokens import looks_like_token, token_hash


class PartnerIntakeService:
    """What a partner sees and submits through their own link, until the consultation starts."""

    def __init__(self, keyring: Keyring, clock: Clock, support: Support) -> None:
        self.keyring = keyring
        self.clock = clock
        self.support = support

    async def view(self, token: str) -> PartnerIntakeView:
        partner, booking = await self._by_token(token)
        questionnaire = load_questionnaire()
        return PartnerIntakeView(
            reference=booking["reference"],
            partner={"name": partner["name"]},
            questionnaire=questionnaire.to_public("each_partner"),
            complete=partner["intake_completed_at"] is not None,
            consents=[
                {"id": c.id, "version": c.version, "title": c.title, "text": c.text}
                for c in load_consents().values()
            ],
        )

    async def submit(self, token: str, data: PartnerIntakeIn, client: str) -> PartnerIntakeDone:
        """Store the partner's answers (replacing earlier ones); audited either way."""
        partner, booking = await self._by_token(token)
        questionnaire = load_questionnaire()
        problems: list[FieldError] = []
        answers: dict[str, object] = {}
        consents: dict[str, str] = {}
        try:
            answers = validate_answers(questionnaire, "each_partner", data.answers, "answers")
        except ValidationFailed as error:
            problems.extend(error.fields)
        try:
            consents = validate_consents(data.consents, "consents")
        except ValidationFailed as error:
            problems.extend(error.fields)
        if problems:
            message = problems[0].message if len(problems) == 1 else "Some answers need attention."
            raise ValidationFailed(message, problems)

        flagged = raises_safety_flag(questionnaire, answers)
        reference, position = booking["reference"], partner["position"]
        async with write_transaction():
            now = self.clock()
            await Partner.update(
                {
                    Partner.answers: self.keyring.encrypt_json(
                        answers, partner_context(reference, position)
                    ),
                    Partner.questionnaire_version: questionnaire.version,
                    Partner.intake_completed_at: now,
                    Partner.safety_flag: flagged,
                    Partner.consents: consents,
                    Partner.consented_at: now,
                }
            ).where(Partner._meta.primary_key == partner["id"])
            any_flag = await Partner.exists().where(
                (Partner.booking == booking["id"]) & Partner.safety_flag.eq(True)
            )
            await Booking.update({Booking.safety_flag: any_flag, Booking.updated_at: now}).where(
                Booking._meta.primary_key == booking["id"]
            )
            action = "intake.replaced" if partner["intake_completed_at"] else "intake.submitted"
            await record_event(
                f"partner:{position}", action, reference, f"partner:{position}", client, now
            )
            if flagged:  # the practice hears of it at once, in this transaction
                await queue_practice_notice(
                    booking["id"], reference, "safety_alert", booking["sequence"], now
                )
        return PartnerIntakeDone(
            complete=True, support=support_out(self.support) if flagged else None
        )

    async def _by_token(self, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        gone = NotFound("This intake link is not valid or is no longer active.")
        if not looks_like_token(token):
            raise gone
        partner = (
            await Partner.select().where(Partner.intake_token_hash == token_hash(token)).first()
        )
        if partner is None:
            raise gone
        booking = (
            await Booking.select().where(Booking._meta.primary_key == partner["booking"]).first()
        )
        # A partner's link works until the consultation starts, for a live booking only.
        if (
            booking is None
            or booking["status"] not in LIVE_STATUSES
            or self.clock() >= booking["starts_at"]
        ):
            raise gone
        return partner, booking


async def rotate_intake_keys(keyring: Keyring, batch: int = 200) -> int:
    """Re-encrypt every stored answer not under the keyring's first key; returns how many.

    Runs in batches, each its own transaction, so it can be interrupted and run again.
    """
    rotated = 0
    last_id = 0
    while True:
        rows = await (
            Booking.select(Booking._meta.primary_key, Booking.reference, Booking.couple_answers)
            .where(Booking._meta.primary_key > last_id)
            .order_by(Booking._meta.primary_key)
            .limit(batch)
        )
        if not rows:
            break
        async with write_transaction():
            for row in rows:
                rotated += await _rotate_booking(keyring, row)
        last_id = rows[-1]["id"]
    if rotated:
        await record_event("system", "intake.reencrypted", "", f"{rotated} records", "", utc_now())
    return rotated


async def _rotate_booking(keyring: Keyring, row: dict[str, Any]) -> int:
    count = 0
    reference = row["reference"]
    if row["couple_answers"] and keyring.needs_rotation(row["couple_answers"]):
        await Booking.update(
            {
                Booking.couple_answers: keyring.reencrypt(
                    row["couple_answers"], couple_context(reference)
                )
            }
        ).where(Booking._meta.primary_key == row["id"])
        count += 1
    partners = await Partner.select(
        Partner._meta.primary_key, Partner.position, Partner.answers
    ).where(Partner.booking == row["id"])
    for partner in partners:
        if partner["answers"] and keyring.needs_rotation(partner["answers"]):
            context = partner_context(reference, partner["position"])
            await Partner.update(
                {Partner.answers: keyring.reencrypt(partner["answers"], context)}
            ).where(Partner._meta.primary_key == partner["id"])
            count += 1
    return count
