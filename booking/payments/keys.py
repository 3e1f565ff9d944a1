"""Deterministic idempotency keys: the same step of the same booking always sends the same key,
so a retry (after a timeout, a crash, a second click) never makes a second object at Stripe.

A key names the booking by its reference (unique, never reused) and the step's number: the
attempt for a SetupIntent or a PaymentIntent (raised only after a failed charge), the
PaymentIntent for its cancellation, a refund's purpose for a refund.
"""

from __future__ import annotations

PREFIX = "booking"


def setup_intent_key(reference: str, attempt: int) -> str:
    return f"{PREFIX}:{reference}:setup:{attempt}"


def payment_intent_key(reference: str, attempt: int) -> str:
    return f"{PREFIX}:{reference}:charge:{attempt}"


def cancel_intent_key(reference: str, payment_intent_id: str) -> str:
    return f"{PREFIX}:{reference}:cancel:{payment_intent_id}"


def refund_key(reference: str, purpose: str) -> str:
    """A refund's key: `purpose` names why (`cancelled`, `late`, `staff`), one per purpose."""
    return f"{PREFIX}:{reference}:refund:{purpose}"
