"""The payment record of a booking's deposit: one row per booking, written only forward."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.bookings.tables import Booking


class Payment(Table, tablename="payments"):
    """A booking's deposit: the card saved on its SetupIntent, charged by its PaymentIntent.

    `status` is a PaymentStatus (booking.bookings.statuses) and only moves forward
    (booking.payments.records.advance). Unique per booking through the migration's index.
    """

    booking = ForeignKey(references=Booking, null=False, on_delete=OnDelete.cascade)
    # The booking's one SetupIntent and the client secret its page confirms it with.
    setup_intent_id = Varchar(length=255, null=True, default=None)
    setup_client_secret = Varchar(length=255, null=True, default=None)
    # The PaymentIntent that charges the deposit; set (under the row lock) before it is
    # created at Stripe, so a second request never makes another.
    payment_intent_id = Varchar(length=255, null=True, default=None)
    # How many PaymentIntents this booking has asked for: part of the idempotency key, raised
    # only when a charge failed and the couple tries another card.
    attempt = Integer(default=0)
    amount = Integer()
    currency = Varchar(length=3)
    refunded_amount = Integer(default=0)
    status = Varchar(length=20, default="pending")
    # The last decline or failure, in the couple's words (never a card number).
    failure_message = Varchar(length=500, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    paid_at = Timestamptz(null=True, default=None)
