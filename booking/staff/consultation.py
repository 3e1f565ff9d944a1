"""One consultation as its therapist (or an admin) reads it: the booking, the couple's part
and each partner's private part side by side, the safety flag first; and marking it
completed or missed once it has started.

Opening it decrypts intake data, so it is audited: one row per record read (the couple's
part, each partner's part), in one transaction, naming the record and never its content.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from booking.bookings import lifecycle
from booking.bookings.contexts import couple_context, partner_context
from booking.bookings.outcomes import ConsultationOutcomes, Outcome
from booking.bookings.records import BookingRecord
from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking, Partner
from booking.core.acting import Acting
from booking.core.audit import AuditAction
from booking.core.crypto import DecryptionError, Keyring
from booking.core.db import write_transaction
from booking.core.errors import NotFound, TooEarly, TooLate
from booking.core.timezones import Clock, utc_now, zone
from booking.intake.questionnaire import (
    COUPLE,
    EACH_PARTNER,
    Questionnaire,
    UnknownQuestionnaire,
    load_questionnaire,
)
from booking.intake.reading import ReadSection, read_answers, safe_contact
from booking.scheduling.records import load_consultation_type, load_therapist
from booking.staff.principal import StaffPrincipal
from booking.staff.reach import booking_in_reach


@dataclass(frozen=True, slots=True)
class PartnerPart:
    """One partner: who they are, and their own private answers."""

    position: int
    name: str
    email: str
    phone: str
    pronouns: str
    intake_complete: bool
    safety_flag: bool
    # What they gave as a safe way and time to reach them ("" for nothing).
    safe_contact: str
    sections: tuple[ReadSection, ...]
    # False: nothing to show (not answered yet, or deleted under the retention policy).
    answered: bool


@dataclass(frozen=True, slots=True)
class Consultation:
    reference: str
    therapist_slug: str
    therapist_name: str
    consultation_type: str
    mode: str
    status: BookingStatus
    # In the therapist's zone.
    starts_at: datetime
    ends_at: datetime
    safety_flag: bool
    couple: tuple[ReadSection, ...]
    partners: tuple[PartnerPart, ...]
    # Set once the retention purge has deleted the answers.
    purged: bool
    # Whether it can be marked completed or missed now (confirmed, and started).
    can_mark: bool

    @property
    def flagged_partners(self) -> tuple[PartnerPart, ...]:
        return tuple(p for p in self.partners if p.safety_flag)


class ConsultationPage:
    def __init__(self, keyring: Keyring, outcomes: ConsultationOutcomes, clock: Clock = utc_now):
        self.keyring = keyring
        self.outcomes = outcomes
        self.clock = clock

    async def view(self, principal: StaffPrincipal, reference: str, acting: Acting) -> Consultation:
        """The consultation with every part decrypted; each part read is audited."""
        booking = await booking_in_reach(principal, reference)
        therapist = await load_therapist(booking.therapist_id)
        consultation_type = await load_consultation_type(booking.consultation_type_id)
        if therapist is None or consultation_type is None:
            raise NotFound("No booking has this reference.")
        stored = (
            await Booking.select(
                Booking.couple_answers,
                Booking.questionnaire_version,
                Booking.intake_purged_at,
            )
            .where(Booking._meta.primary_key == booking.id)
            .first()
        )
        partner_rows = await (
            Partner.select(
                Partner.position,
                Partner.name,
                Partner.email,
                Partner.phone,
                Partner.pronouns,
                Partner.answers,
                Partner.questionnaire_version,
                Partner.intake_completed_at,
                Partner.safety_flag,
            )
            .where(Partner.booking == booking.id)
            .order_by(Partner.position)
        )
        if stored is None:
            raise NotFound("No booking has this reference.")
        read: list[str] = []
        couple: tuple[ReadSection, ...] = ()
        couple_answers = self._open(stored["couple_answers"], couple_context(booking.reference))
        if couple_answers is not None:
            couple = read_answers(
                _questionnaire(stored["questionnaire_version"]), COUPLE, couple_answers
            )
            read.append("couple")
        partners: list[PartnerPart] = []
        for row in partner_rows:
            position = row["position"]
            answers = self._open(row["answers"], partner_context(booking.reference, position))
            questionnaire = _questionnaire(row["questionnaire_version"])
            if answers is not None:
                read.append(f"partner:{position}")
            partners.append(
                PartnerPart(
                    position=position,
                    name=row["name"],
                    email=row["email"],
                    phone=row["phone"],
                    pronouns=row["pronouns"],
                    intake_complete=row["intake_completed_at"] is not None,
                    safety_flag=row["safety_flag"],
                    safe_contact=safe_contact(questionnaire, answers or {}),
                    sections=()
                    if answers is None
                    else read_answers(questionnaire, EACH_PARTNER, answers),
                    answered=answers is not None,
                )
            )
        if read:
            async with write_transaction():
                at = self.clock()
                for record in read:
                    await acting.record(
                        AuditAction.INTAKE_VIEWED, at=at, booking=booking.reference, record=record
                    )
        tz = zone(therapist.timezone)
        now = self.clock()
        return Consultation(
            reference=booking.reference,
            therapist_slug=therapist.slug,
            therapist_name=therapist.name,
            consultation_type=consultation_type.name,
            mode=booking.mode,
            status=lifecycle.status_of(booking.state, now),
            starts_at=booking.starts_at.astimezone(tz),
            ends_at=booking.ends_at.astimezone(tz),
            safety_flag=booking.safety_flag or any(p.safety_flag for p in partners),
            couple=couple,
            partners=tuple(partners),
            purged=stored["intake_purged_at"] is not None,
            can_mark=_can_mark(booking, now),
        )

    async def mark(
        self, principal: StaffPrincipal, reference: str, outcome: Outcome, acting: Acting
    ) -> BookingStatus:
        """Mark the consultation completed or missed (from its start; confirmed only)."""
        booking = await booking_in_reach(principal, reference)
        marked = await self.outcomes.mark(booking.id, outcome, acting)
        return marked.status

    def _open(self, sealed: str | None, context: str) -> Mapping[str, object] | None:
        if not sealed:
            return None
        try:
            value = self.keyring.decrypt_json(sealed, context)
        except DecryptionError:
            # A part no key opens is shown as unreadable, never as an error page; no detail
            # of it leaves here.
            return None
        return value if isinstance(value, dict) else None


def _questionnaire(version: str) -> Questionnaire:
    try:
        return load_questionnaire(version or None)
    except UnknownQuestionnaire:
        return load_questionnaire()


def _can_mark(booking: BookingRecord, now: datetime) -> bool:
    """Whether the lifecycle lets the consultation be marked now (its rule, asked)."""
    try:
        lifecycle.complete(booking.state, now)
    except (TooEarly, TooLate):
        return False
    return True
