"""A couple's data as one JSON document, for a request to see or take it elsewhere: the
booking, both partners, every answer decrypted (every kept version), the consents with the
version of each text agreed to, the notes, payments (none are taken online yet), and the
booking's audit trail. Each record read is an audit row (`booking.exported`)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import msgspec

from booking.core.audit import AuditAction
from booking.core.crypto import Keyring
from booking.core.db import write_transaction
from booking.core.timezones import Clock, rfc3339
from booking.intake.consents import load_consents
from booking.payments.money_tables import PaymentRefund
from booking.payments.records import payment_of
from booking.staff.access import Origin, record, require_admin
from booking.staff.audit_log import booking_trail
from booking.staff.casefile import Case, PartnerPart, load_case
from booking.staff.principal import StaffPrincipal

EXPORT_FORMAT = "booking-export/1"


class ExportService:
    def __init__(self, keyring: Keyring, clock: Clock) -> None:
        self.keyring = keyring
        self.clock = clock

    async def export(
        self,
        principal: StaffPrincipal,
        reference: str,
        origin: Origin = Origin(),  # noqa: B008 (frozen: one shared default is safe)
    ) -> dict[str, Any]:
        """The document for booking `reference`; audited, one row per record read, before it
        is returned (the trail in it ends with this export)."""
        require_admin(principal)
        case = await load_case(reference, self.keyring, self.clock, with_versions=True)
        async with write_transaction():
            now = self.clock()
            for name in ["booking", *case.records(with_cancel_reason=True)]:
                await record(
                    AuditAction.BOOKING_EXPORTED,
                    principal,
                    origin,
                    booking=case.reference,
                    record=name,
                    at=now,
                )
        trail = [asdict(e) for e in await booking_trail(case.reference)]
        return document(case, trail, now, await payments_of(case.id))

    async def export_json(
        self,
        principal: StaffPrincipal,
        reference: str,
        origin: Origin = Origin(),  # noqa: B008
    ) -> bytes:
        """`export` as UTF-8 JSON, keys in a stable order."""
        return msgspec.json.format(
            msgspec.json.encode(await self.export(principal, reference, origin), enc_hook=_enc),
            indent=2,
        )


async def payments_of(booking_id: int) -> list[dict[str, Any]]:
    """The booking's deposit as the export lists it: the payment and each refund decided on,
    amounts in minor units, Stripe's ids (for the practice's own records), nothing of the card
    and never the card form's client secret."""
    payment = await payment_of(booking_id)
    if payment is None:
        return []
    refunds = await (
        PaymentRefund.select()
        .where(PaymentRefund.booking == booking_id)
        .order_by(PaymentRefund._meta.primary_key)
    )
    return [
        {
            "status": payment.status.value,
            "amount": {"amount": payment.amount, "currency": payment.currency},
            "refunded": {"amount": payment.refunded_amount, "currency": payment.currency},
            "paid_at": _time(payment.paid_at),
            "payment_intent": payment.payment_intent_id,
            "refunds": [
                {
                    "cause": r["cause"],
                    "amount": {"amount": r["amount"], "currency": r["currency"]},
                    "decided_at": _time(r["created_at"]),
                    "refunded_at": _time(r["refunded_at"]),
                    "stripe_refund": r["stripe_refund_id"],
                }
                for r in refunds
            ],
        }
    ]


def document(
    case: Case,
    trail: list[dict[str, Any]],
    exported_at: datetime,
    payments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The export's shape (a pure function of what was read)."""
    return {
        "format": EXPORT_FORMAT,
        "exported_at": rfc3339(exported_at),
        "booking": {
            "reference": case.reference,
            "status": case.status.value,
            "review_status": case.review_status,
            "therapist": case.therapist,
            "consultation_type": case.consultation_type,
            "mode": case.mode,
            "starts_at": _time(case.starts_at),
            "ends_at": _time(case.ends_at),
            "booked_at": _time(case.created_at),
            "cancelled_at": _time(case.cancelled_at),
            "cancel_reason": case.cancel_reason,
            "timezone": case.viewer_timezone or None,
            "safety_follow_up": case.safety_flag,
            "safety_resolved_at": _time(case.safety_resolved_at),
            "intake_purged_at": _time(case.intake_purged_at),
            "erased_at": _time(case.erased_at),
        },
        "couple": {
            "questionnaire_version": case.questionnaire_version,
            "answers": case.couple_answers,
        },
        "partners": [_partner(p) for p in case.partners],
        "notes": [
            {"author": n.author, "written_at": _time(n.created_at), "text": n.text}
            for n in case.notes
        ],
        "payments": payments or [],
        "price": None
        if case.price_amount is None
        else {"amount": case.price_amount, "currency": case.currency},
        "deposit": None
        if case.deposit_amount is None
        else {"amount": case.deposit_amount, "currency": case.currency},
        "audit_trail": [
            {
                "at": _time(e["at"]),
                "actor": e["actor"],
                "action": e["action"],
                "record": e["record"],
                "client": e["client"],
            }
            for e in trail
        ],
    }


def _partner(partner: PartnerPart) -> dict[str, Any]:
    texts = load_consents()
    consents = []
    for consent_id, agreed in sorted(partner.consents.items()):
        current = texts.get(consent_id)
        consents.append(
            {
                "id": consent_id,
                "version": agreed,
                "agreed_at": _time(partner.consented_at),
                # The text itself where the service still ships that version of it.
                "title": current.title if current and current.version == agreed else None,
                "text": current.text if current and current.version == agreed else None,
            }
        )
    return {
        "position": partner.position,
        "name": partner.name,
        "email": partner.email,
        "phone": partner.phone or None,
        "pronouns": partner.pronouns or None,
        "intake_completed_at": _time(partner.completed_at),
        "questionnaire_version": partner.questionnaire_version or None,
        "answers": partner.answers,
        "answer_versions": [
            {
                "number": v.number,
                "submitted_at": _time(v.submitted_at),
                "questionnaire_version": v.questionnaire_version,
                "raised_safety_follow_up": v.safety_flag,
                "answers": v.answers,
            }
            for v in partner.versions
        ],
        "consents": consents,
    }


def _time(value: datetime | None) -> str | None:
    return None if value is None else rfc3339(value)


def _enc(value: object) -> object:
    if isinstance(value, datetime):
        return rfc3339(value)
    raise TypeError(f"cannot export {type(value).__name__}")
