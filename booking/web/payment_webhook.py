"""Stripe's webhook: the raw body and its signature to one service, 200 with what it did."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter
from msgspec import Struct

from booking.core.errors import BadSignature, TryAgainLater
from booking.payments.webhook import PaymentWebhook
from booking.web.openapi import declares


class WebhookReceived(Struct, frozen=True):
    received: bool
    effect: str


class PaymentWebhookController(Controller):
    path = "/api/v1/payments/stripe/webhook"
    tags = ["payments"]

    @post(
        summary="Stripe events (signature verified)",
        status_code=200,
        opt=declares(BadSignature, TryAgainLater),
    )
    async def receive(
        self,
        request: Request[Any, Any, Any],
        payment_webhook: NamedDependency[PaymentWebhook],
        stripe_signature: Annotated[
            str | None,
            HeaderParameter(name="Stripe-Signature", description="Stripe's signature"),
        ] = None,
    ) -> WebhookReceived:
        # The signature covers the bytes as sent: the body is read raw, never re-encoded.
        effect = await payment_webhook.receive(await request.body(), stripe_signature)
        return WebhookReceived(received=True, effect=effect)
