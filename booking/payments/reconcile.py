"""Reconciliation: Stripe's PaymentIntents and refunds beside the local records, the safe
repairs made, the rest listed for a person.

Safe repairs are the ones the webhook would have made: a payment Stripe took that the service
missed confirms its booking, or is refunded when it came too late (the payment service's
`record_intent`, forward only, so running it again repairs nothing twice); a refund Stripe
made whose id never reached the database is recorded; a lapsed hold's intent is cancelled.
Anything else (money at Stripe for no booking, a local payment Stripe does not know, refunds
the service did not make) is a finding for a person: nothing is guessed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from booking.bookings.holds import lapsed_hold
from booking.bookings.statuses import BookingStatus, PaymentStatus
from booking.bookings.tables import Booking
from booking.core.db import LockSpace, lock, write_transaction
from booking.core.timezones import Clock
from booking.notifications.tables import OutboxMessage
from booking.payments.gateway import IntentInfo, PaymentGateway
from booking.payments.money_tables import PaymentRefund
from booking.payments.records import PAID, payment_of
from booking.payments.refunds import (
    GIVING_BACK,
    known_refund_ids,
    queue_intent_cancellation,
    record_refund,
)
from booking.payments.service import PaymentService
from booking.payments.settle import effect_of
from booking.payments.tables import Payment

# How many of Stripe's most recent PaymentIntents one run compares.
INTENTS_PER_RUN = 100
# How often a worker cancels lapsed holds' intents, and how many of those passes make one
# full reconciliation (a missed webhook is repaired within that); a failed pass is retried at
# the next.
LAPSED_HOLDS_EVERY_SECONDS = 60.0
PASSES_PER_RECONCILIATION = 10

log = logging.getLogger("booking.payments")


@dataclass
class Reconciliation:
    """What one run found: what it repaired, and what needs a person (one line each)."""

    compared: int = 0
    repaired: list[str] = field(default_factory=list)
    attention: list[str] = field(default_factory=list)


class Reconciler:
    def __init__(self, payments: PaymentService, gateway: PaymentGateway, clock: Clock) -> None:
        self.payments = payments
        self.gateway = gateway
        self.clock = clock

    async def run(self) -> Reconciliation:
        """Compare, repair what is safe, and report."""
        found = Reconciliation()
        intents = await self.gateway.list_payment_intents(INTENTS_PER_RUN)
        seen: set[str] = set()
        for intent in intents:
            if not intent.reference:
                continue  # not one of the service's: it names no booking
            seen.add(intent.id)
            found.compared += 1
            await self._intent(intent, found)
        await self._local_payments(seen, found)
        found.repaired += await self.lapsed_holds()
        await self._stuck_refunds(found)
        return found

    async def _intent(self, intent: IntentInfo, found: Reconciliation) -> None:
        recorded = await self.payments.record_intent(intent)
        if recorded is None:
            if intent.succeeded:
                found.attention.append(
                    f"{intent.id} ({intent.reference}): Stripe took {intent.amount} "
                    f"{intent.currency} for a booking the service does not have"
                )
            return
        effect = effect_of(recorded)
        if effect == "mismatch":
            found.attention.append(
                f"{intent.id} ({intent.reference}): {recorded.mismatch}; nothing changed"
            )
        elif effect == "confirmed":
            found.repaired.append(f"{intent.reference}: paid at Stripe, booking confirmed")
        elif effect == "late_payment":
            found.repaired.append(
                f"{intent.reference}: paid after its hold ended, full refund queued"
            )
        if intent.succeeded:
            await self._refunds(intent, recorded.payment.booking_id, found)

    async def _refunds(self, intent: IntentInfo, booking_id: int, found: Reconciliation) -> None:
        """Refunds at Stripe beside the decided ones: adopt one whose id was lost; report
        refunds the service never decided on."""
        at_stripe = [
            r for r in await self.gateway.list_refunds(intent.id) if r.status in GIVING_BACK
        ]
        if not at_stripe:
            return
        known = await known_refund_ids(intent.id)
        unknown = [r for r in at_stripe if r.id not in known]
        pending = await (
            PaymentRefund.select()
            .where(
                (PaymentRefund.payment_intent == intent.id)
                & PaymentRefund.stripe_refund_id.is_null()
            )
            .order_by(PaymentRefund._meta.primary_key)
        )
        for refund, decided in zip(unknown, pending, strict=False):
            if await record_refund(decided, refund.id, self.clock()):
                found.repaired.append(
                    f"{intent.reference}: refund {refund.id} made at Stripe, now recorded"
                )
        for refund in unknown[len(pending) :]:
            found.attention.append(
                f"{intent.reference}: refund {refund.id} of {refund.amount} {refund.currency} "
                "at Stripe was not made by the service"
            )

    async def _local_payments(self, seen: set[str], found: Reconciliation) -> None:
        """Local payments taken that Stripe's recent intents do not show as taken."""
        rows = await Payment.select(
            Payment.booking.reference.as_alias("reference"),
            Payment.payment_intent_id,
            Payment.status,
        ).where(Payment.status.is_in([s.value for s in PAID]))
        for row in rows:
            intent_id = row["payment_intent_id"]
            if not intent_id or intent_id in seen:
                continue
            intent = await self.gateway.retrieve_payment_intent(intent_id)
            if not intent.succeeded:
                found.attention.append(
                    f"{row['reference']}: recorded as {row['status']} but Stripe says "
                    f"{intent.status}"
                )

    async def lapsed_holds(self) -> list[str]:
        """Holds that ended unpaid while their intent could still charge: queue the intent's
        cancellation (once); what was queued, a line each."""
        queued: list[str] = []
        now = self.clock()
        rows = await Payment.select(
            Payment.booking, Payment.booking.reference.as_alias("reference")
        ).where(
            Payment.payment_intent_id.is_not_null()
            & Payment.status.is_in([PaymentStatus.PENDING, PaymentStatus.FAILED])
            & Payment.booking.is_in(
                Booking.select(Booking._meta.primary_key).where(
                    lapsed_hold(now)
                    | Booking.status.is_in([BookingStatus.EXPIRED, BookingStatus.CANCELLED])
                )
            )
        )
        for row in rows:
            async with write_transaction():
                await lock(LockSpace.PAYMENT, row["booking"])
                payment = await payment_of(row["booking"])
                if payment is not None and await queue_intent_cancellation(
                    row["booking"], row["reference"], payment, now
                ):
                    queued.append(f"{row['reference']}: hold ended unpaid, its payment cancelled")
        return queued

    async def _stuck_refunds(self, found: Reconciliation) -> None:
        """Decided refunds whose outbox row gave up."""
        rows = await OutboxMessage.select(
            OutboxMessage._meta.primary_key,
            OutboxMessage.booking.reference.as_alias("reference"),
            OutboxMessage.last_error,
        ).where(
            (OutboxMessage.kind.is_in(["refund", "cancel_payment"]))
            & (OutboxMessage.status == "failed")
        )
        for row in rows:
            found.attention.append(
                f"{row['reference']}: payment work {row['id']} failed ({row['last_error']}); "
                "see `booking outbox failed`, then `booking outbox redrive`"
            )


def report_lines(found: Reconciliation, at: datetime) -> list[str]:
    """The run as the operator reads it."""
    lines = [
        f"Compared {found.compared} payment intent(s) with the records at {at:%Y-%m-%d %H:%M} UTC."
    ]
    lines += [f"repaired: {line}" for line in found.repaired] or ["repaired: nothing"]
    lines += [f"needs a person: {line}" for line in found.attention] or ["needs a person: nothing"]
    return lines


async def reconcile_forever(reconciler: Reconciler, stop: threading.Event) -> None:
    """Until `stop` is set: every minute cancel lapsed holds' intents, every tenth minute
    reconcile in full (the first pass one interval after start: the webhook settles most
    payments at once). Every worker runs it; the repairs are idempotent."""
    passes = 0
    while not await asyncio.to_thread(stop.wait, LAPSED_HOLDS_EVERY_SECONDS):
        passes += 1
        try:
            if passes % PASSES_PER_RECONCILIATION:
                found = Reconciliation(repaired=await reconciler.lapsed_holds())
            else:
                found = await reconciler.run()
        except Exception:  # Stripe or the database unreachable: the loop must go on
            log.exception("reconciliation failed; trying again at the next pass")
            continue
        for line in found.repaired:
            log.info("reconciliation repaired: %s", line)
        for line in found.attention:
            log.warning("reconciliation needs a person: %s", line)
