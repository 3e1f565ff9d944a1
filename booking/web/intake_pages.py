"""A partner's own private intake as HTML pages, behind their private link."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from booking.bookings.schemas import PartnerIntakeIn
from booking.core.errors import ValidationFailed
from booking.intake.questionnaire import EACH_PARTNER, load_questionnaire
from booking.intake.services import PartnerIntakeService
from booking.web.clients import client_address
from booking.web.forms import (
    FormState,
    answers_from_form,
    consent_labels,
    consents,
    consents_from_form,
    form_values,
    question_labels,
)


class IntakePages(Controller):
    """The second partner's own part of the intake, behind their private link."""

    path = "/intake/{token:str}"
    include_in_schema = False

    @get("/", name="intake")
    async def form(
        self, token: FromPath[str], partner_intake: NamedDependency[PartnerIntakeService]
    ) -> Template:
        return await _intake_form(partner_intake, token, FormState(), 200)

    @post("/", status_code=200)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        partner_intake: NamedDependency[PartnerIntakeService],
    ) -> Template:
        values = await form_values(request)
        questions = load_questionnaire().questions_for(EACH_PARTNER)
        data = PartnerIntakeIn(
            answers=answers_from_form(values, questions, "answers"),
            consents=consents_from_form(values),
        )
        try:
            done = await partner_intake.submit(token, data, client_address(request))
        except ValidationFailed as exc:
            labels = {**question_labels(questions, "answers"), **consent_labels()}
            return await _intake_form(
                partner_intake, token, FormState.failed(values, exc.fields, labels), 422
            )
        view = await partner_intake.view(token)
        return Template(
            "public/intake_done.html",
            context={"name": view.partner["name"], "support": done.support},
        )


async def _intake_form(
    intake: PartnerIntakeService, token: str, form: FormState, status: int
) -> Template:
    view = await intake.view(token)
    return Template(
        "public/intake.html",
        context={
            "view": view,
            "sections": view.questionnaire["sections"],
            "consents": consents(),
            "form": form,
            "token": token,
        },
        status_code=status,
    )
