"""A partner's own private intake, behind their link; re-encryption under a new key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from booking.bookings import lifecycle
from booking.bookings.contexts import cancel_reason_context, couple_context, partner_context
from booking.bookings.ports import Announcer
from booking.bookings.records import PARTNER_COLUMNS, BookingRecord, PartnerRecord, load_booking
from booking.bookings.schemas import PartnerIntakeDone, PartnerIntakeIn, PartnerIntakeView
from booking.bookings.statuses import MessageKind
from booking.bookings.tables import Booking, Partner
from booking.core import audit
from booking.core.audit import SYSTEM, Actor, AuditAction
from booking.core.crypto import Keyring
from booking.core.db import write_transaction
from booking.core.errors import FieldError, NotFound, ValidationFailed
from booking.core.timezones import Clock, utc_now
from booking.core.tokens import looks_like_token, token_hash
from booking.intake.consents import Support, load_consents, validate_consents
from booking.intake.questionnaire import load_questionnaire, raises_safety_flag, validate_answers
from booking.intake.screen import support_out
from booking.intake.tables import AnswerVersion
from booking.intake.versions import add_answer_version, version_context


class PartnerIntakeService:
    """What a partner sees and submits through their own link, until the consultation starts."""

    def __init__(
        self, keyring: Keyring, clock: Clock, support: Support, announcer: Announcer
    ) -> None:
        self.keyring = keyring
        self.clock = clock
        self.support = support
        self.announcer = announcer

    async def view(self, token: str) -> PartnerIntakeView:
        partner, booking = await self._by_token(token)
        questionnaire = load_questionnaire()
        return PartnerIntakeView(
            reference=booking.reference,
            partner={"name": partner.name},
            questionnaire=questionnaire.to_public("each_partner"),
            complete=partner.intake_completed_at is not None,
            consents=[
                {"id": c.id, "version": c.version, "title": c.title, "text": c.text}
                for c in load_consents().values()
            ],
        )

    async def submit(self, token: str, data: PartnerIntakeIn, client: str) -> PartnerIntakeDone:
        """Store the partner's answers as their next version (the latest is what they see);
        audited. A raised safety flag stays raised until staff resolve it."""
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
        reference, position = booking.reference, partner.position
        async with write_transaction():
            now = self.clock()
            latest: dict[Any, Any] = {
                Partner.answers: self.keyring.encrypt_json(
                    answers, partner_context(reference, position)
                ),
                Partner.questionnaire_version: questionnaire.version,
                Partner.intake_completed_at: now,
                Partner.consents: consents,
                Partner.consented_at: now,
            }
            # A later "all is well" never clears a disclosure: only staff do (resolve_safety_flag).
            if flagged:
                latest[Partner.safety_flag] = True
            await Partner.update(latest).where(Partner._meta.primary_key == partner.id)
            number = await add_answer_version(
                self.keyring,
                booking_id=booking.id,
                partner_id=partner.id,
                reference=reference,
                position=position,
                answers=answers,
                questionnaire_version=questionnaire.version,
                flagged=flagged,
                now=now,
            )
            changes: dict[Any, Any] = {Booking.updated_at: now}
            if flagged:
                changes[Booking.safety_flag] = True
            await Booking.update(changes).where(Booking._meta.primary_key == booking.id)
            action = (
                AuditAction.INTAKE_REPLACED
                if partner.intake_completed_at
                else AuditAction.INTAKE_SUBMITTED
            )
            record = f"partner:{position} version {number}"
            await audit.record(
                action,
                actor=Actor.partner(position),
                booking=reference,
                record=record,
                client=client,
                at=now,
            )
            if flagged:  # the practice hears of it at once, in this transaction
                await self.announcer.notify_practice(
                    booking.id, reference, MessageKind.SAFETY_ALERT, booking.sequence, now
                )
        # Support answers the answers just given; an earlier flag is the staff's to follow up.
        return PartnerIntakeDone(
            complete=True, support=support_out(self.support) if flagged else None
        )

    async def _by_token(self, token: str) -> tuple[PartnerRecord, BookingRecord]:
        gone = NotFound("This intake link is not valid or is no longer active.")
        if not looks_like_token(token):
            raise gone
        row = (
            await Partner.select(*PARTNER_COLUMNS)
            .where(Partner.intake_token_hash == token_hash(token))
            .first()
        )
        if row is None:
            raise gone
        partner = PartnerRecord.from_row(row)
        booking = await load_booking(partner.booking_id)
        # A partner's link works until the consultation starts, for a live booking only.
        if booking is None or not lifecycle.intake_open(booking.state, self.clock()):
            raise gone
        return partner, booking


async def resolve_safety_flag(
    reference: str, actor: Actor, now: datetime, client: str = ""
) -> bool:
    """Clear the booking's and its partners' safety flags as resolved by staff `actor`
    ("staff:<id>"), audited; False (and nothing changed) when no flag is raised.

    Raises NotFound for an unknown reference. The versions keep whether each raised a flag.
    """
    async with write_transaction():
        booking = (
            await Booking.select(Booking._meta.primary_key, Booking.safety_flag)
            .where(Booking.reference == reference)
            .first()
        )
        if booking is None:
            raise NotFound("No booking has this reference.")
        raised = booking["safety_flag"] or await Partner.exists().where(
            (Partner.booking == booking["id"]) & Partner.safety_flag.eq(True)
        )
        if not raised:
            return False
        # Partners before the booking: the order a submission takes its row locks in.
        await Partner.update({Partner.safety_flag: False}).where(Partner.booking == booking["id"])
        await Booking.update(
            {
                Booking.safety_flag: False,
                Booking.safety_resolved_at: now,
                Booking.safety_resolved_by: actor.label[:120],
                Booking.updated_at: now,
            }
        ).where(Booking._meta.primary_key == booking["id"])
        await audit.record(
            AuditAction.SAFETY_RESOLVED,
            actor=actor,
            booking=reference,
            record="booking",
            client=client,
            at=now,
        )
    return True


async def rotate_intake_keys(keyring: Keyring, batch: int = 200) -> int:
    """Re-encrypt every stored answer, answer version and cancel reason not under the
    keyring's first key; returns how many.

    Runs in batches, each its own transaction, so it can be interrupted and run again.
    """
    rotated = 0
    last_id = 0
    while True:
        rows = await (
            Booking.select(
                Booking._meta.primary_key,
                Booking.reference,
                Booking.couple_answers,
                Booking.cancel_reason_encrypted,
            )
            .where(Booking._meta.primary_key > last_id)
            .order_by(Booking._meta.primary_key)
            .limit(batch)
        )
        if not rows:
            break
        async with write_transaction():
            for row in rows:
                rotated += await _rotate_booking(
                    keyring,
                    row["id"],
                    row["reference"],
                    row["couple_answers"],
                    row["cancel_reason_encrypted"],
                )
        last_id = rows[-1]["id"]
    if rotated:
        await audit.record(
            AuditAction.INTAKE_REENCRYPTED,
            actor=SYSTEM,
            booking="",
            record=f"{rotated} records",
            at=utc_now(),
        )
    return rotated


async def _rotate_booking(
    keyring: Keyring,
    booking_id: int,
    reference: str,
    couple_answers: str | None,
    reason: str | None,
) -> int:
    """Re-encrypt one booking's answers, answer versions and cancel reason (`couple_answers`
    and `reason` as stored); returns how many."""
    count = 0
    if couple_answers and keyring.needs_rotation(couple_answers):
        await Booking.update(
            {Booking.couple_answers: keyring.reencrypt(couple_answers, couple_context(reference))}
        ).where(Booking._meta.primary_key == booking_id)
        count += 1
    if reason and keyring.needs_rotation(reason):
        await Booking.update(
            {
                Booking.cancel_reason_encrypted: keyring.reencrypt(
                    reason, cancel_reason_context(reference)
                )
            }
        ).where(Booking._meta.primary_key == booking_id)
        count += 1
    partners = await Partner.select(
        Partner._meta.primary_key, Partner.position, Partner.answers
    ).where(Partner.booking == booking_id)
    for partner in partners:
        if partner["answers"] and keyring.needs_rotation(partner["answers"]):
            context = partner_context(reference, partner["position"])
            await Partner.update(
                {Partner.answers: keyring.reencrypt(partner["answers"], context)}
            ).where(Partner._meta.primary_key == partner["id"])
            count += 1
    versions = await AnswerVersion.select(
        AnswerVersion._meta.primary_key,
        AnswerVersion.position,
        AnswerVersion.number,
        AnswerVersion.answers,
    ).where(AnswerVersion.booking == booking_id)
    for version in versions:
        if keyring.needs_rotation(version["answers"]):
            context = version_context(reference, version["position"], version["number"])
            await AnswerVersion.update(
                {AnswerVersion.answers: keyring.reencrypt(version["answers"], context)}
            ).where(AnswerVersion._meta.primary_key == version["id"])
            count += 1
    return count
