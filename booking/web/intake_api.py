"""Intake API: a partner's own private part, by their intake link."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from booking.bookings.schemas import PartnerIntakeDone, PartnerIntakeIn, PartnerIntakeView
from booking.intake.services import PartnerIntakeService
from booking.web.clients import client_address


class IntakeController(Controller):
    path = "/api/v1/intake"
    tags = ["intake"]

    @get(
        "/{partner_token:str}",
        summary="A partner's private intake",
    )
    async def view(
        self,
        partner_token: FromPath[str],
        partner_intake: NamedDependency[PartnerIntakeService],
    ) -> PartnerIntakeView:
        return await partner_intake.view(partner_token)

    @post(
        "/{partner_token:str}",
        summary="Submit (or replace) a partner's private intake",
        status_code=200,
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        partner_token: FromPath[str],
        data: JSONBody[PartnerIntakeIn],
        partner_intake: NamedDependency[PartnerIntakeService],
    ) -> PartnerIntakeDone:
        return await partner_intake.submit(partner_token, data, client_address(request))
