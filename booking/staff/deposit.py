"""The deposit as the admin's couple's page shows it, and the admin's refund of it.

The panel is a plain read of the payment record and the refunds decided on (no intake data,
so no audit row); it shows only what the record holds: amounts, statuses, times and the
Stripe PaymentIntent's id, nothing of the card. The refund is the payments domain's
(`booking.payments.refunds.refund_what_is_left`): the same outbox job, idempotency key and
stored refund id as a cancellation's refund, decided under the payment lock, so it is made
at most once whoever asks and however often. It is audited in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from booking.bookings.statuses import MessageKind, PaymentStatus
from booking.core.audit import AuditAction
from booking.core.db import write_transaction
from booking.core.timezones import Clock
from booking.notifications.tables import OutboxMessage
from booking.payments.money_tables import PaymentRefund
from booking.payments.records import payment_of
from booking.payments.refunds import CANCELLED, LATE, STAFF, decided_amount, refund_what_is_left
from booking.scheduling.schemas import Money
from booking.staff.access import Origin, record, require_admin
from booking.staff.principal import StaffPrincipal
from booking.staff.reach import booking_in_reach

PAYMENT_WORDS = {
    PaymentStatus.PENDING: "Not paid yet",
    PaymentStatus.SUCCEEDED: "Paid",
    PaymentStatus.PARTIALLY_REFUNDED: "Paid, partly refunded",
    PaymentStatus.REFUNDED: "Refunded",
    PaymentStatus.FAILED: "The charge failed",
    PaymentStatus.CANCELLED: "Not charged (the hold lapsed or was cancelled)",
}
CAUSE_WORDS = {
    CANCELLED: "The couple cancelled inside the refund window",
    LATE: "The payment came after the hold was released",
    STAFF: "Refunded by the practice",
}


class RefundState(StrEnum):
    QUEUED = "queued"
    MADE = "made"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RefundLine:
    amount: Money
    cause: str
    decided_at: datetime
    refunded_at: datetime | None
    state: RefundState


@dataclass(frozen=True, slots=True)
class DepositPanel:
    """What the couple's page shows of a booking's deposit."""

    amount: Money
    status: PaymentStatus
    paid_at: datetime | None
    refunded: Money
    payment_intent_id: str | None
    refunds: tuple[RefundLine, ...]
    # What a refund would give back now: what no refund, made or queued, gives back yet.
    refundable: Money | None

    @property
    def status_words(self) -> str:
        return PAYMENT_WORDS[self.status]


class DepositDesk:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def panel(self, principal: StaffPrincipal, reference: str) -> DepositPanel | None:
        """The booking's deposit, or None for a booking that asks none (or has no record)."""
        require_admin(principal)
        booking = await booking_in_reach(principal, reference)
        payment = await payment_of(booking.id)
        if payment is None:
            return None
        rows = await (
            PaymentRefund.select()
            .where(PaymentRefund.booking == booking.id)
            .order_by(PaymentRefund._meta.primary_key)
        )
        failed = {
            r["dedupe_key"]
            for r in await OutboxMessage.select(OutboxMessage.dedupe_key).where(
                (OutboxMessage.booking == booking.id)
                & (OutboxMessage.kind == MessageKind.REFUND.value)
                & (OutboxMessage.status == "failed")
            )
        }
        refunds = tuple(
            RefundLine(
                amount=Money(r["amount"], r["currency"]),
                cause=CAUSE_WORDS.get(r["cause"], r["cause"]),
                decided_at=r["created_at"],
                refunded_at=r["refunded_at"],
                state=RefundState.MADE
                if r["stripe_refund_id"]
                else RefundState.FAILED
                if r["idempotency_key"] in failed
                else RefundState.QUEUED,
            )
            for r in rows
        )
        left = payment.amount - max(payment.refunded_amount, await decided_amount(booking.id))
        return DepositPanel(
            amount=Money(payment.amount, payment.currency),
            status=payment.status,
            paid_at=payment.paid_at,
            refunded=Money(payment.refunded_amount, payment.currency),
            payment_intent_id=payment.payment_intent_id,
            refunds=refunds,
            refundable=Money(left, payment.currency)
            if payment.paid and payment.payment_intent_id and left > 0
            else None,
        )

    async def refund(
        self,
        principal: StaffPrincipal,
        reference: str,
        expected: int | None = None,
        origin: Origin = Origin(),  # noqa: B008 (frozen: one shared default is safe)
    ) -> Money:
        """Refund what is left of the deposit (the amount the admin confirmed, `expected`);
        the booker is told by email once it is queued. NothingToRefund when nothing is left
        (a double click, a second admin, the couple's cancellation refund)."""
        require_admin(principal)
        booking = await booking_in_reach(principal, reference)
        async with write_transaction():
            now = self.clock()
            refund = await refund_what_is_left(booking.id, booking.reference, expected, now)
            await record(
                AuditAction.DEPOSIT_REFUNDED,
                principal,
                origin,
                booking=booking.reference,
                record=f"{refund.amount} {refund.currency}",
                at=now,
            )
        return refund
