"""The intake's side of booking: checking a booking request's answers and consents, keeping
the booker's first version, and the support a flagged booker is shown (the ports of
booking.bookings.ports)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from booking.bookings.ports import ScreenedIntake
from booking.bookings.schemas import SupportOut, SupportResource
from booking.core.crypto import Keyring
from booking.core.errors import FieldError, ValidationFailed
from booking.intake.consents import Support, validate_consents
from booking.intake.questionnaire import load_questionnaire, raises_safety_flag, validate_answers
from booking.intake.versions import add_answer_version, booker_flagged_at_booking


def support_out(support: Support) -> SupportOut:
    """The support message and resources as the API and the pages show them."""
    return SupportOut(
        message=support.message,
        resources=[SupportResource(name=r.name, contact=r.contact) for r in support.resources],
    )


class QuestionnaireScreen:
    """Checks a booking request's intake against the current questionnaire and consents."""

    def screen(
        self,
        couple: Mapping[str, Any],
        booker: Mapping[str, Any],
        consents: Mapping[str, Any],
    ) -> tuple[ScreenedIntake, list[FieldError]]:
        """The checked intake and every problem found, in the order of the form."""
        questionnaire = load_questionnaire()
        problems: list[FieldError] = []

        def collect(error: ValidationFailed) -> None:
            problems.extend(error.fields or [FieldError("body", error.message)])

        couple_answers: dict[str, object] = {}
        booker_answers: dict[str, object] = {}
        given: dict[str, str] = {}
        try:
            couple_answers = validate_answers(questionnaire, "couple", couple, "intake.couple")
        except ValidationFailed as error:
            collect(error)
        try:
            booker_answers = validate_answers(
                questionnaire, "each_partner", booker, "intake.booker"
            )
        except ValidationFailed as error:
            collect(error)
        try:
            given = validate_consents(consents, "consents")
        except ValidationFailed as error:
            collect(error)
        screened = ScreenedIntake(
            couple_answers=couple_answers,
            booker_answers=booker_answers,
            consents=given,
            booker_safety_flag=raises_safety_flag(questionnaire, booker_answers),
            questionnaire_version=questionnaire.version,
        )
        return screened, problems


class AnswerRecords:
    """Keeps the booker's answers as their first version, encrypted under `keyring`."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    async def add_booker_version(
        self,
        *,
        booking_id: int,
        partner_id: int,
        reference: str,
        intake: ScreenedIntake,
        now: datetime,
    ) -> None:
        await add_answer_version(
            self.keyring,
            booking_id=booking_id,
            partner_id=partner_id,
            reference=reference,
            position=1,
            answers=intake.booker_answers,
            questionnaire_version=intake.questionnaire_version,
            flagged=intake.booker_safety_flag,
            now=now,
        )

    async def booker_flagged_at_booking(self, booking_id: int) -> bool:
        return await booker_flagged_at_booking(booking_id)
