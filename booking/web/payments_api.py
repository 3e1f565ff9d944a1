"""Payments API: the payment page's data and the charge of a held booking (private audience:
behind the manage token)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from booking.core.errors import AlreadyPaid, NotBookableOnline, PaymentsUnavailable, TooLate
from booking.payments.schemas import PayIn, PaymentPageOut, PayOut
from booking.payments.service import PaymentService
from booking.web.openapi import declares


class PaymentController(Controller):
    path = "/api/v1/bookings/{manage_token:str}/payment"
    tags = ["payments"]

    @get(
        name="payment-api",
        summary="A held booking's deposit: amount, hold, and the card form's SetupIntent",
        opt=declares(TooLate, NotBookableOnline, PaymentsUnavailable),
    )
    async def page(
        self, manage_token: FromPath[str], payments: NamedDependency[PaymentService]
    ) -> PaymentPageOut:
        return await payments.page(manage_token)

    @post(
        summary="Charge the card saved on the booking's SetupIntent (once)",
        status_code=200,
        opt=declares(TooLate, AlreadyPaid, NotBookableOnline, PaymentsUnavailable),
    )
    async def pay(
        self,
        manage_token: FromPath[str],
        data: JSONBody[PayIn],
        payments: NamedDependency[PaymentService],
    ) -> PayOut:
        return await payments.pay(manage_token, data.setup_intent)
