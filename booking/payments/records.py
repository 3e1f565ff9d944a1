"""The payment record as the service reads it, and the rule that its status only moves forward.

pending -> failed | succeeded | cancelled; failed -> succeeded | cancelled (a retry with
another card may still succeed); cancelled -> succeeded (Stripe took the money after all: a
late payment, refunded); succeeded -> partially_refunded | refunded; partially_refunded ->
refunded. Nothing ever returns to pending, and nothing leaves refunded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking.bookings.records import load_booking
from booking.bookings.schemas import PaymentSummary
from booking.bookings.statuses import PaymentStatus
from booking.payments.tables import Payment
from booking.scheduling.records import load_consultation_type
from booking.scheduling.schemas import Money

FORWARD: Mapping[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset(
        {PaymentStatus.FAILED, PaymentStatus.SUCCEEDED, PaymentStatus.CANCELLED}
    ),
    PaymentStatus.FAILED: frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.CANCELLED}),
    PaymentStatus.CANCELLED: frozenset({PaymentStatus.SUCCEEDED}),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset(
        {PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
    ),
    PaymentStatus.REFUNDED: frozenset(),
}
# Statuses in which the money was taken (and may be, or have been, given back).
PAID = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}
)


def may_advance(current: PaymentStatus, new: PaymentStatus) -> bool:
    """Whether a payment in `current` may be written as `new` (the same is no change)."""
    return new in FORWARD[current]


def refund_status(amount: int, refunded: int) -> PaymentStatus:
    """The status of a paid deposit of `amount` after `refunded` came back."""
    if refunded <= 0:
        return PaymentStatus.SUCCEEDED
    return PaymentStatus.REFUNDED if refunded >= amount else PaymentStatus.PARTIALLY_REFUNDED


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: int
    booking_id: int
    setup_intent_id: str | None
    setup_client_secret: str | None
    payment_intent_id: str | None
    attempt: int
    amount: int
    currency: str
    refunded_amount: int
    status: PaymentStatus
    failure_message: str
    paid_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PaymentRecord:
        return cls(
            id=row["id"],
            booking_id=row["booking"],
            setup_intent_id=row["setup_intent_id"],
            setup_client_secret=row["setup_client_secret"],
            payment_intent_id=row["payment_intent_id"],
            attempt=row["attempt"],
            amount=row["amount"],
            currency=row["currency"],
            refunded_amount=row["refunded_amount"],
            status=PaymentStatus(row["status"]),
            failure_message=row["failure_message"],
            paid_at=row["paid_at"],
        )

    @property
    def paid(self) -> bool:
        return self.status in PAID


async def payment_of(booking_id: int) -> PaymentRecord | None:
    """The booking's payment record, or None before its payment page first opened."""
    row = await Payment.select().where(Payment.booking == booking_id).first()
    return PaymentRecord.from_row(row) if row else None


async def payment_by_intent(payment_intent_id: str) -> PaymentRecord | None:
    row = await Payment.select().where(Payment.payment_intent_id == payment_intent_id).first()
    return PaymentRecord.from_row(row) if row else None


class DepositRecords:
    """`bookings.ports.PaymentRecords`: a booking's deposit as the manage API shows it."""

    async def summary(self, booking_id: int) -> PaymentSummary | None:
        payment = await payment_of(booking_id)
        if payment is not None:
            return PaymentSummary(
                status=payment.status,
                amount=Money(payment.amount, payment.currency),
                refunded=Money(payment.refunded_amount, payment.currency),
            )
        booking = await load_booking(booking_id)
        if booking is None:
            return None
        consultation_type = await load_consultation_type(booking.consultation_type_id)
        if consultation_type is None or consultation_type.deposit_amount is None:
            return None
        currency = consultation_type.currency.lower()
        return PaymentSummary(
            status=PaymentStatus.PENDING,
            amount=Money(consultation_type.deposit_amount, currency),
            refunded=Money(0, currency),
        )
