"""Stripe's webhook: believe a signed, recent event, re-read its PaymentIntent from Stripe, and
settle the booking from what Stripe says now (booking.payments.settle).

The event id is stored in the transaction of its effect, so a replayed or re-sent event finds
it and does nothing; what it does only moves a payment forward, so events out of order change
nothing backwards. Events it does not handle are answered 200 and forgotten.
"""

from __future__ import annotations

import logging

from booking.core.errors import TryAgainLater
from booking.core.timezones import Clock
from booking.payments.gateway import GatewayUnavailable, NotAtStripe, PaymentGateway
from booking.payments.service import PaymentService
from booking.payments.settle import seen_event, settle_intent
from booking.payments.signatures import verify_event

log = logging.getLogger("booking.payments")

# The events whose PaymentIntent may change a booking; any other gets a 200 and nothing more.
HANDLED = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.requires_action",
        "payment_intent.processing",
    }
)


class PaymentWebhook:
    """The webhook's one service: `receive` a request's raw body and its signature header."""

    def __init__(
        self, secret: str, gateway: PaymentGateway | None, payments: PaymentService, clock: Clock
    ) -> None:
        self.secret = secret
        self.gateway = gateway
        self.payments = payments
        self.clock = clock

    async def receive(self, payload: bytes, signature: str | None) -> str:
        """What the event did ("ignored", "replayed", or the settlement's effect).

        Raises BadSignature (nothing done) and TryAgainLater (a lock held too long, or Stripe
        not answering: Stripe retries)."""
        event = verify_event(payload, signature, self.secret)
        if event.type not in HANDLED:
            return "ignored"
        intent_id = str(getattr(event.data.object, "id", "") or "")
        if not intent_id.startswith("pi_"):
            return "ignored"
        if await seen_event(event.id):
            return "replayed"
        if self.gateway is None:
            raise TryAgainLater("This service takes no payments now; try again later.")
        # Never the payload's word: the intent as Stripe has it now.
        try:
            intent = await self.gateway.retrieve_payment_intent(intent_id)
        except NotAtStripe:
            # Signed with our secret, yet Stripe has no such intent: nothing to act on.
            return "unknown_intent"
        except GatewayUnavailable as exc:
            log.warning("stripe event %s: the intent could not be re-read: %s", event.id, exc)
            raise TryAgainLater("The payment provider could not be asked; try again.") from exc
        effect = await settle_intent(
            self.payments, intent, self.clock(), event_id=event.id, event_type=event.type
        )
        log.info("stripe event %s (%s): %s", event.id, event.type, effect)
        return effect
