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
        return document(case, [asdict(e) for e in await booking_trail(case.reference)], now)

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


def document(case: Case, trail: list[dict[str, Any]], exported_at: datetime) -> dict[str, Any]:
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
        # Deposits are not taken online yet: there is never a payment to list.
        "payments": [],
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
