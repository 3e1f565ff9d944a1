"""Refunds: deciding on one (a cancellation inside the window, a payment that came too late),
making it once through the outbox, and saying in the emails what happened to the deposit.

A refund is decided in the transaction of its cause: a `payment_refunds` row keyed by its
deterministic idempotency key (keys.refund_key) and an outbox row of the same key. The outbox
runs it (`PaymentWorkRunner`) with its lease and backoff. The refund is made only while the
stored row has no Stripe refund id and Stripe lists no refund of the intent that the service
does not know of: a worker killed between Stripe's answer and its commit leaves exactly such
a refund, which the retry adopts instead of making a second. (The emulator ignores
idempotency keys; Stripe honours them too.)
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from booking.bookings.records import BookingRecord, load_booking
from booking.bookings.statuses import MessageKind, PaymentStatus, Recipient
from booking.core.db import LockSpace, lock, write_transaction
from booking.core.errors import NothingToRefund
from booking.core.timezones import Clock, zone
from booking.notifications import outbox
from booking.notifications.records import OutboxRecord
from booking.notifications.transport import DeliveryError
from booking.payments import keys, policy
from booking.payments.gateway import GatewayUnavailable, IntentInfo, PaymentGateway
from booking.payments.money_tables import PaymentRefund
from booking.payments.records import PAID, PaymentRecord, may_advance, payment_of, refund_status
from booking.payments.tables import Payment
from booking.scheduling.records import load_consultation_type, load_therapist
from booking.scheduling.schemas import Money
from booking.scheduling.wording import clock, long_date, money

log = logging.getLogger("booking.payments")

# Why a refund was decided: the refund_key's purpose and the stored row's cause.
CANCELLED = "cancelled"
LATE = "late"
# An admin gave back what was left of the deposit (the review's refund action).
STAFF = "staff"
# Stripe refund statuses that give (or will give) the money back.
GIVING_BACK = ("pending", "requires_action", "succeeded")


async def decide_refund(
    booking_id: int, reference: str, payment: PaymentRecord, cause: str, now: datetime
) -> Money | None:
    """Decide on a full refund of what is left of `payment`, in the caller's transaction;
    queued once per booking and cause however often this is called. Returns the amount."""
    amount = payment.amount - payment.refunded_amount
    if amount <= 0 or not payment.payment_intent_id:
        return None
    key = keys.refund_key(reference, cause)
    await PaymentRefund.insert(
        PaymentRefund(
            booking=booking_id,
            idempotency_key=key,
            cause=cause,
            payment_intent=payment.payment_intent_id,
            amount=amount,
            currency=payment.currency,
            status="pending",
            created_at=now,
        )
    ).on_conflict(action="DO NOTHING")
    await outbox.queue_payment_job(booking_id, MessageKind.REFUND, key, now)
    if cause in (LATE, STAFF):
        # The booker paid: they hear that it came back (once per booking and cause).
        kind = MessageKind.PAYMENT_REFUNDED if cause == LATE else MessageKind.DEPOSIT_REFUNDED
        await outbox.queue_messages(booking_id, reference, kind, 0, [Recipient.PARTNER_1], now)
    return Money(amount=amount, currency=payment.currency)


async def decided_amount(booking_id: int) -> int:
    """What the refunds decided on for the booking give back, made or still queued."""
    rows = await PaymentRefund.select(PaymentRefund.amount).where(
        PaymentRefund.booking == booking_id
    )
    return sum(r["amount"] for r in rows)


async def refund_what_is_left(
    booking_id: int, reference: str, expected: int | None, now: datetime
) -> Money:
    """Decide on the staff's full refund of what no refund (made or queued) gives back yet,
    in the caller's transaction; under the payment lock, so two admins, a double click or a
    cancellation's refund already decided never give the money back twice.

    `expected` is the amount the admin confirmed: a different amount left (another refund
    decided since) refuses rather than refunding a sum nobody confirmed.
    Raises NothingToRefund when nothing is left or `expected` is no longer what is left."""
    await lock(LockSpace.PAYMENT, booking_id)
    payment = await payment_of(booking_id)
    if payment is None or not payment.paid or not payment.payment_intent_id:
        raise NothingToRefund("This booking has no paid deposit to refund.")
    left = payment.amount - max(payment.refunded_amount, await decided_amount(booking_id))
    if left <= 0:
        raise NothingToRefund(
            "The deposit is already refunded or its refund is on its way; nothing is left "
            "to refund."
        )
    if expected is not None and expected != left:
        raise NothingToRefund(
            f"What is left to refund is now {money(Money(left, payment.currency))}; "
            "look again before refunding."
        )
    key = keys.refund_key(reference, STAFF)
    if await PaymentRefund.exists().where(PaymentRefund.idempotency_key == key):
        raise NothingToRefund("An admin already refunded this deposit.")
    refund = await decide_refund(
        booking_id, reference, replace(payment, refunded_amount=payment.amount - left), STAFF, now
    )
    if refund is None:  # not reached: something is left and the intent is known
        raise NothingToRefund("This booking has no paid deposit to refund.")
    return refund


class Refunds:
    """The deposit's side of a cancellation (booking.bookings.ports.Deposits) and of a
    payment that came too late (booking.payments.service.LatePayments)."""

    async def refund_on_cancel(self, booking_id: int, now: datetime) -> Money | None:
        payment = await payment_of(booking_id)
        if payment is None or payment.status not in PAID:
            return None
        window = await _refund_window(booking_id)
        if window is None:
            return None
        starts_at, hours = window
        # A refund already decided (an admin's, still queued) counts as given back.
        given = max(payment.refunded_amount, await decided_amount(booking_id))
        amount = policy.refund_on_cancel(payment.amount, given, starts_at, hours, now)
        return None if amount is None else Money(amount=amount, currency=payment.currency)

    async def cancelled(self, booking_id: int, reference: str, now: datetime) -> Money | None:
        await lock(LockSpace.PAYMENT, booking_id)
        payment = await payment_of(booking_id)
        if payment is None:
            return None
        if not payment.paid:
            # A hold cancelled while a charge may still land (a 3-D Secure step left open):
            # its intent is cancelled, and a charge that lands anyway is refunded as late.
            await queue_intent_cancellation(booking_id, reference, payment, now)
            return None
        refund = await self.refund_on_cancel(booking_id, now)
        if refund is None:
            return None
        left = replace(payment, refunded_amount=payment.amount - refund.amount)
        return await decide_refund(booking_id, reference, left, CANCELLED, now)

    async def cancellation_refund(self, booking_id: int) -> Money | None:
        row = (
            await PaymentRefund.select(PaymentRefund.amount, PaymentRefund.currency)
            .where((PaymentRefund.booking == booking_id) & (PaymentRefund.cause == CANCELLED))
            .first()
        )
        return None if row is None else Money(amount=row["amount"], currency=row["currency"])

    async def late_payment(
        self, payment: PaymentRecord, booking: BookingRecord, intent: IntentInfo, now: datetime
    ) -> None:
        await decide_refund(booking.id, booking.reference, payment, LATE, now)
        log.info("payment for %s came too late: a full refund is queued", booking.reference)


async def queue_intent_cancellation(
    booking_id: int, reference: str, payment: PaymentRecord, now: datetime
) -> bool:
    """Queue the cancellation of the payment's intent (in the caller's transaction), once."""
    if not payment.payment_intent_id or payment.paid:
        return False
    key = keys.cancel_intent_key(reference, payment.payment_intent_id)
    return await outbox.queue_payment_job(booking_id, MessageKind.CANCEL_PAYMENT, key, now)


async def _refund_window(booking_id: int) -> tuple[datetime, int] | None:
    booking = await load_booking(booking_id)
    if booking is None:
        return None
    consultation_type = await load_consultation_type(booking.consultation_type_id)
    if consultation_type is None:
        return None
    return booking.starts_at, consultation_type.refund_window_hours


class PaymentWorkRunner:
    """Runs the outbox's rows of work for the payment provider
    (booking.notifications.ports.PaymentWork): refunds, and lapsed holds' cancellations."""

    def __init__(self, gateway: PaymentGateway, clock: Clock) -> None:
        self.gateway = gateway
        self.clock = clock

    async def run(self, row: OutboxRecord) -> str:
        try:
            if row.kind is MessageKind.REFUND:
                return await self.refund(row.dedupe_key)
            if row.kind is MessageKind.CANCEL_PAYMENT:
                return await self.cancel_intent(row.booking_id, row.dedupe_key)
        except GatewayUnavailable as exc:
            raise DeliveryError(f"Stripe unavailable: {exc}", permanent=False) from exc
        raise DeliveryError(f"no payment work of kind {row.kind}", permanent=True)

    async def refund(self, key: str) -> str:
        """Make the refund `key` names unless it exists; returns Stripe's refund id."""
        row = await PaymentRefund.select().where(PaymentRefund.idempotency_key == key).first()
        if row is None:
            raise DeliveryError("this refund was never decided on", permanent=True)
        if row["stripe_refund_id"]:
            return str(row["stripe_refund_id"])
        intent_id = row["payment_intent"]
        at_stripe = [
            r for r in await self.gateway.list_refunds(intent_id) if r.status in GIVING_BACK
        ]
        known = await known_refund_ids(intent_id)
        unknown = [r for r in at_stripe if r.id not in known]
        if unknown:
            # An earlier attempt's refund whose id never reached the database: it is this one.
            refund_id = unknown[0].id
            log.info("refund %s found at Stripe for %s: recorded, not repeated", refund_id, key)
        else:
            intent = await self.gateway.retrieve_payment_intent(intent_id)
            given = sum(r.amount for r in at_stripe)
            if given + row["amount"] > intent.amount:
                raise DeliveryError(
                    "Stripe already refunded this payment: a person must look (nothing sent)",
                    permanent=True,
                )
            refund_id = (await self.gateway.create_refund(intent_id, row["amount"], key)).id
        await record_refund(row, refund_id, self.clock())
        return refund_id

    async def cancel_intent(self, booking_id: int, key: str) -> str:
        """Cancel the lapsed hold's PaymentIntent if it can still succeed; a charge that got
        through first is the webhook's or reconciliation's to refund as late."""
        intent_id = key.rsplit(":", 1)[-1]
        intent = await self.gateway.retrieve_payment_intent(intent_id)
        if intent.status not in ("succeeded", "canceled"):
            intent = await self.gateway.cancel_payment_intent(intent_id, key)
        if intent.status == "canceled":
            async with write_transaction():
                await lock(LockSpace.PAYMENT, booking_id)
                payment = await payment_of(booking_id)
                if (
                    payment is not None
                    and payment.payment_intent_id == intent_id
                    and may_advance(payment.status, PaymentStatus.CANCELLED)
                ):
                    await Payment.update(
                        {Payment.status: PaymentStatus.CANCELLED, Payment.updated_at: self.clock()}
                    ).where(Payment._meta.primary_key == payment.id)
        return f"payment intent {intent.status}"


async def known_refund_ids(intent_id: str) -> set[str]:
    """The Stripe refund ids the service has recorded for the intent."""
    rows = await PaymentRefund.select(PaymentRefund.stripe_refund_id).where(
        (PaymentRefund.payment_intent == intent_id) & PaymentRefund.stripe_refund_id.is_not_null()
    )
    return {r["stripe_refund_id"] for r in rows}


async def record_refund(row: dict[str, Any], refund_id: str, now: datetime) -> bool:
    """Store Stripe's refund id on the decided refund and count it on the payment, once;
    whether this call stored it."""
    async with write_transaction():
        await lock(LockSpace.PAYMENT, row["booking"])
        stored = await (
            PaymentRefund.update(
                {
                    PaymentRefund.stripe_refund_id: refund_id,
                    PaymentRefund.status: "succeeded",
                    PaymentRefund.refunded_at: now,
                }
            )
            .where(
                (PaymentRefund._meta.primary_key == row["id"])
                & PaymentRefund.stripe_refund_id.is_null()
            )
            .returning(PaymentRefund._meta.primary_key)
        )
        if not stored:
            return False
        payment = await payment_of(row["booking"])
        if payment is not None:
            refunded = min(payment.refunded_amount + row["amount"], payment.amount)
            values: dict[Any, Any] = {
                Payment.refunded_amount: refunded,
                Payment.updated_at: now,
            }
            status = refund_status(payment.amount, refunded)
            if may_advance(payment.status, status):
                values[Payment.status] = status
            await Payment.update(values).where(Payment._meta.primary_key == payment.id)
    return True


class DepositWording:
    """What a partner's email says of the deposit (booking.notifications.ports.DepositOutcomes)."""

    async def outcome(self, booking_id: int, kind: str) -> str | None:
        if kind not in (
            MessageKind.CANCELLATION,
            MessageKind.PAYMENT_REFUNDED,
            MessageKind.DEPOSIT_REFUNDED,
        ):
            return None
        payment = await payment_of(booking_id)
        if payment is None or payment.status not in PAID:
            return None
        rows = await PaymentRefund.select(PaymentRefund.cause, PaymentRefund.amount).where(
            PaymentRefund.booking == booking_id
        )
        causes = {r["cause"]: r["amount"] for r in rows}
        if kind == MessageKind.DEPOSIT_REFUNDED:
            if STAFF not in causes:
                return None
            return (
                f"{money(Money(causes[STAFF], payment.currency))} is being refunded to the "
                "card you paid with; banks usually show it within 5 to 10 business days."
            )
        if kind == MessageKind.PAYMENT_REFUNDED:
            if LATE not in causes:
                return None
            return (
                f"The full amount, {money(Money(causes[LATE], payment.currency))}, is being "
                "refunded to the card you paid with; banks usually show it within 5 to 10 "
                "business days."
            )
        if CANCELLED in causes:
            return (
                f"Your deposit of {money(Money(causes[CANCELLED], payment.currency))} is "
                "being refunded in full to the card you paid with; banks usually show it "
                "within 5 to 10 business days."
            )
        kept = payment.amount - max(payment.refunded_amount, sum(causes.values()))
        if kept <= 0:
            return None
        return (
            f"As the consultation was cancelled after {await _deadline_words(booking_id)}, "
            f"the deposit of {money(Money(kept, payment.currency))} is kept, as set out "
            "when you paid it."
        )


async def _deadline_words(booking_id: int) -> str:
    """The refund deadline as the couple read it, in their own time zone."""
    booking = await load_booking(booking_id)
    window = await _refund_window(booking_id)
    if booking is None or window is None:
        return "the refund deadline"
    therapist = await load_therapist(booking.therapist_id)
    tz_name = booking.viewer_timezone or (therapist.timezone if therapist else "UTC")
    deadline = policy.refund_deadline(*window).astimezone(zone(tz_name))
    return f"the refund deadline ({long_date(deadline)}, {clock(deadline)})"
