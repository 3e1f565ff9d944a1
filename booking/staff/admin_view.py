"""The consultation page an admin reads: the review's file (`BookingReview.open`, which
decrypted and audited it) shaped as the therapist's page shows a consultation, so both read
the same, the admin's tools added beside it by the page.

Pure but for two plain reads (the booking's state and its therapist's zone), neither of
intake data: nothing here decrypts, so nothing here audits.
"""

from __future__ import annotations

from datetime import datetime

from booking.bookings import lifecycle
from booking.core.errors import TooEarly, TooLate
from booking.core.timezones import zone
from booking.intake.questionnaire import (
    COUPLE,
    EACH_PARTNER,
    Questionnaire,
    UnknownQuestionnaire,
    load_questionnaire,
)
from booking.intake.reading import read_answers, safe_contact
from booking.scheduling.records import load_therapist
from booking.staff.casefile import Case
from booking.staff.consultation import Consultation, PartnerPart
from booking.staff.principal import StaffPrincipal
from booking.staff.reach import booking_in_reach


async def consultation_of(principal: StaffPrincipal, case: Case, now: datetime) -> Consultation:
    """`case` as the consultation page shows it, times in its therapist's zone."""
    booking = await booking_in_reach(principal, case.reference)
    therapist = await load_therapist(booking.therapist_id)
    tz = zone(therapist.timezone if therapist else "UTC")
    partners = []
    for p in case.partners:
        questionnaire = _questionnaire(p.questionnaire_version)
        partners.append(
            PartnerPart(
                position=p.position,
                name=p.name,
                email=p.email,
                phone=p.phone,
                pronouns=p.pronouns,
                intake_complete=p.complete,
                safety_flag=p.safety_flag,
                safe_contact=safe_contact(questionnaire, p.answers or {}),
                sections=()
                if p.answers is None
                else read_answers(questionnaire, EACH_PARTNER, p.answers),
                answered=p.answers is not None,
            )
        )
    couple = (
        ()
        if case.couple_answers is None
        else read_answers(_questionnaire(case.questionnaire_version), COUPLE, case.couple_answers)
    )
    try:
        lifecycle.complete(booking.state, now)
        can_mark = True
    except (TooEarly, TooLate):
        can_mark = False
    return Consultation(
        reference=case.reference,
        therapist_slug=case.therapist,
        therapist_name=case.therapist_name,
        consultation_type=case.consultation_name,
        mode=case.mode,
        status=lifecycle.status_of(booking.state, now),
        starts_at=case.starts_at.astimezone(tz),
        ends_at=case.ends_at.astimezone(tz),
        safety_flag=case.safety_flag or any(p.safety_flag for p in partners),
        couple=couple,
        partners=tuple(partners),
        purged=case.intake_purged_at is not None,
        can_mark=can_mark,
    )


def _questionnaire(version: str) -> Questionnaire:
    try:
        return load_questionnaire(version or None)
    except UnknownQuestionnaire:
        return load_questionnaire()
