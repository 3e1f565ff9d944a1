"""What the service keeps of money moving after a payment: the Stripe events it acted on,
and the refunds it decided on (migration m0017)."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.bookings.tables import Booking


class StripeEvent(Table, tablename="stripe_events"):
    """One Stripe event the webhook acted on, written in the transaction of its effect."""

    event_id = Varchar(length=255, unique=True)
    type = Varchar(length=100, default="")
    payment_intent = Varchar(length=255, default="")
    # What the event did: "confirmed", "refund_queued", "failed", "nothing", ...
    effect = Varchar(length=40, default="")
    received_at = Timestamptz(default=TimestamptzNow())


# pending -> succeeded (Stripe has the refund and its id is stored)
REFUND_STATUSES = ("pending", "succeeded")


class PaymentRefund(Table, tablename="payment_refunds"):
    """A refund the service decided on; at most one per booking and cause."""

    booking = ForeignKey(references=Booking, null=False, on_delete=OnDelete.cascade)
    # booking.payments.refunds.refund_key: sent to Stripe as the idempotency key too.
    idempotency_key = Varchar(length=120, unique=True)
    # "cancelled" (inside the refund window), "late" (the hold had lapsed or the slot had gone
    # to someone else when the payment succeeded) or "staff" (an admin refunded what was left).
    cause = Varchar(length=20, default="")
    payment_intent = Varchar(length=255, default="")
    amount = Integer(default=0)
    currency = Varchar(length=3, default="cad")
    # Stripe's refund id once it exists: the record that stops a second refund.
    stripe_refund_id = Varchar(length=255, null=True, default=None)
    status = Varchar(length=10, default="pending")
    created_at = Timestamptz(default=TimestamptzNow())
    refunded_at = Timestamptz(null=True, default=None)
