"""Stripe's webhook signatures: a request is believed only if it is signed with the endpoint's
secret and recent (stripe.Webhook.construct_event, its default tolerance of five minutes)."""

from __future__ import annotations

import stripe

from booking.core.errors import BadSignature

# Seconds a signed event stays acceptable (Stripe's own default): older is a replay.
TOLERANCE_SECONDS = 300


def verify_event(payload: bytes, signature: str | None, secret: str) -> stripe.Event:
    """The event `payload` carries, if `signature` (the Stripe-Signature header) signs it with
    `secret` within the tolerance. Raises BadSignature otherwise, saying nothing of why beyond
    what the sender can fix."""
    if not secret:
        raise BadSignature("This endpoint does not accept events: no signing secret is set.")
    if not signature:
        raise BadSignature("The request carries no Stripe-Signature header.")
    try:
        event: stripe.Event = stripe.Webhook.construct_event(
            payload, signature, secret, tolerance=TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError:
        raise BadSignature("The request's signature is not valid or is too old.") from None
    except ValueError:
        raise BadSignature("The request body is not a Stripe event.") from None
    return event
