"""A couple's whole file as the review reads it: the booking, both partners with their
answers decrypted, the couple part, the notes. Read by the consultation page and the export,
which each audit what they read (one row per record: `Case.records`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking.bookings import lifecycle
from booking.bookings.contexts import cancel_reason_context, couple_context, partner_context
from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking, Partner
from booking.core.crypto import Keyring
from booking.core.errors import NotFound
from booking.core.timezones import Clock
from booking.intake.tables import AnswerVersion
from booking.intake.versions import version_context
from booking.scheduling.tables import ConsultationType, Therapist
from booking.staff.notes import Note, NoteService


@dataclass(frozen=True, slots=True)
class AnswerVersionOut:
    number: int
    submitted_at: datetime
    questionnaire_version: str
    safety_flag: bool
    answers: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PartnerPart:
    """One partner and their private part (the other partner never sees it)."""

    position: int
    name: str
    email: str
    phone: str
    pronouns: str
    complete: bool
    completed_at: datetime | None
    safety_flag: bool
    questionnaire_version: str
    answers: dict[str, Any] | None
    consents: dict[str, Any]
    consented_at: datetime | None
    versions: tuple[AnswerVersionOut, ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    reference: str
    status: BookingStatus
    review_status: str
    review_changed_at: datetime | None
    review_changed_by: str
    therapist: str
    therapist_name: str
    consultation_type: str
    consultation_name: str
    mode: str
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    cancelled_at: datetime | None
    viewer_timezone: str
    safety_flag: bool
    safety_resolved_at: datetime | None
    safety_resolved_by: str
    intake_purged_at: datetime | None
    erased_at: datetime | None
    price_amount: int | None
    deposit_amount: int | None
    currency: str
    questionnaire_version: str
    couple_answers: dict[str, Any] | None
    cancel_reason: str | None
    partners: tuple[PartnerPart, ...]
    notes: tuple[Note, ...]

    def records(self, *, with_cancel_reason: bool) -> list[str]:
        """The records this read decrypted, one audit row each: "couple", "partner:2",
        "note:5", "cancel reason"."""
        read = ["couple"] if self.couple_answers is not None else []
        read += [f"partner:{p.position}" for p in self.partners if p.answers is not None]
        read += [f"note:{n.id}" for n in self.notes]
        if with_cancel_reason and self.cancel_reason is not None:
            read.append("cancel reason")
        return read


async def load_case(reference: str, keyring: Keyring, clock: Clock, *, with_versions: bool) -> Case:
    """The booking `reference` with everything decrypted (every kept version of each
    partner's answers too when `with_versions`); NotFound when there is none."""
    row = await Booking.select().where(Booking.reference == reference.strip().upper()).first()
    if row is None:
        raise NotFound("No booking has this reference.")
    reference = row["reference"]
    therapist = await Therapist.select(Therapist.slug, Therapist.name).where(
        Therapist._meta.primary_key == row["therapist"]
    ).first() or {"slug": "", "name": ""}
    kind = await ConsultationType.select(
        ConsultationType.slug,
        ConsultationType.name,
        ConsultationType.price_amount,
        ConsultationType.deposit_amount,
        ConsultationType.currency,
    ).where(ConsultationType._meta.primary_key == row["consultation_type"]).first() or {
        "slug": "",
        "name": "",
        "price_amount": None,
        "deposit_amount": None,
        "currency": "",
    }
    partner_rows = await (
        Partner.select()
        .where(Partner.booking == row["id"])
        .order_by(Partner.position)
        .output(load_json=True)
    )
    versions: dict[int, list[AnswerVersionOut]] = {}
    if with_versions:
        for v in await (
            AnswerVersion.select()
            .where(AnswerVersion.booking == row["id"])
            .order_by(AnswerVersion.position)
            .order_by(AnswerVersion.number)
        ):
            context = version_context(reference, v["position"], v["number"])
            versions.setdefault(v["position"], []).append(
                AnswerVersionOut(
                    v["number"],
                    v["submitted_at"],
                    v["questionnaire_version"],
                    v["safety_flag"],
                    _as_dict(keyring.decrypt_json(v["answers"], context)),
                )
            )
    partners = tuple(
        PartnerPart(
            position=p["position"],
            name=p["name"],
            email=p["email"],
            phone=p["phone"],
            pronouns=p["pronouns"],
            complete=p["intake_completed_at"] is not None,
            completed_at=p["intake_completed_at"],
            safety_flag=p["safety_flag"],
            questionnaire_version=p["questionnaire_version"],
            answers=_as_dict(
                keyring.decrypt_json(p["answers"], partner_context(reference, p["position"]))
            )
            if p["answers"]
            else None,
            consents=dict(p["consents"] or {}),
            consented_at=p["consented_at"],
            versions=tuple(versions.get(p["position"], [])),
        )
        for p in partner_rows
    )
    reason = row["cancel_reason_encrypted"]
    notes = await NoteService(keyring, clock).read_all(row["id"], reference)
    return Case(
        id=row["id"],
        reference=reference,
        status=lifecycle.effective_status(
            BookingStatus(row["status"]), row["hold_expires_at"], clock()
        ),
        review_status=row["review_status"],
        review_changed_at=row["review_changed_at"],
        review_changed_by=row["review_changed_by"],
        therapist=therapist["slug"],
        therapist_name=therapist["name"],
        consultation_type=kind["slug"],
        consultation_name=kind["name"],
        mode=row["mode"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_at=row["created_at"],
        cancelled_at=row["cancelled_at"],
        viewer_timezone=row["viewer_timezone"],
        safety_flag=row["safety_flag"],
        safety_resolved_at=row["safety_resolved_at"],
        safety_resolved_by=row["safety_resolved_by"],
        intake_purged_at=row["intake_purged_at"],
        erased_at=row["erased_at"],
        price_amount=kind["price_amount"],
        deposit_amount=kind["deposit_amount"],
        currency=kind["currency"],
        questionnaire_version=row["questionnaire_version"],
        couple_answers=_as_dict(
            keyring.decrypt_json(row["couple_answers"], couple_context(reference))
        )
        if row["couple_answers"]
        else None,
        cancel_reason=keyring.decrypt(reason, cancel_reason_context(reference)).decode("utf-8")
        if reason
        else None,
        partners=partners,
        notes=tuple(notes),
    )


def _as_dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
