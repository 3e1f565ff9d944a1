"""Settling a booking from a PaymentIntent as Stripe has it, with the Stripe event that told
of it recorded in the same transaction (the webhook), or without one (reconciliation).

The payment service's `apply_intent` does the writing (forward only; confirming the booking
with its invitations, or handing money that came too late to the refunds); this module adds
the event's record and turns a lock held too long into TryAgainLater.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from asyncpg.exceptions import LockNotAvailableError

from booking.bookings.records import load_booking
from booking.bookings.tables import Booking
from booking.core.db import LockSpace, limit_lock_wait, lock, write_transaction
from booking.core.errors import TryAgainLater
from booking.payments.gateway import IntentInfo
from booking.payments.money_tables import StripeEvent
from booking.payments.records import payment_by_intent, payment_of
from booking.payments.service import PaymentService, Recorded

# How long the webhook waits for a payment another request holds before asking for a retry.
LOCK_WAIT_SECONDS = 5.0


async def seen_event(event_id: str) -> bool:
    """Whether the Stripe event was acted on already."""
    return bool(await StripeEvent.exists().where(StripeEvent.event_id == event_id))


async def settle_intent(
    payments: PaymentService,
    intent: IntentInfo,
    now: datetime,
    *,
    event_id: str | None = None,
    event_type: str = "",
) -> str:
    """Apply `intent` to its booking's payment; returns what it did ("confirmed",
    "late_payment", "no_change", "unknown_intent", "mismatch", "replayed").

    With `event_id`, the event is recorded in the same transaction, and an event recorded
    before does nothing. Raises TryAgainLater when the payment stays locked too long.
    """
    try:
        async with write_transaction():
            await limit_lock_wait(LOCK_WAIT_SECONDS)
            if event_id is not None and await seen_event(event_id):
                return "replayed"
            effect = await _apply(payments, intent, now)
            if event_id is not None:
                await StripeEvent.insert(
                    StripeEvent(
                        event_id=event_id,
                        type=event_type[:100],
                        payment_intent=intent.id,
                        effect=effect,
                        received_at=now,
                    )
                )
    except LockNotAvailableError:
        raise TryAgainLater("The booking is being changed; try again shortly.") from None
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        raise TryAgainLater("The booking is being changed; try again shortly.") from None
    return effect


async def _apply(payments: PaymentService, intent: IntentInfo, now: datetime) -> str:
    target = await _booking_of(intent)
    if target is None:
        return "unknown_intent"
    await lock(LockSpace.PAYMENT, target)
    payment = await payment_of(target)
    booking = await load_booking(target)
    if payment is None or booking is None:
        return "unknown_intent"
    return effect_of(await payments.apply_intent(payment, booking, intent, now))


def effect_of(recorded: Recorded) -> str:
    """What an applied intent did, in a word for the event record and the logs."""
    if recorded.mismatch:
        return "mismatch"
    if recorded.confirmed:
        return "confirmed"
    if recorded.late:
        return "late_payment"
    return "no_change"


async def _booking_of(intent: IntentInfo) -> int | None:
    """The booking the intent is for: by its stored id, else by `metadata.reference`."""
    payment = await payment_by_intent(intent.id)
    if payment is not None:
        return payment.booking_id
    if not intent.reference:
        return None
    row = (
        await Booking.select(Booking._meta.primary_key)
        .where(Booking.reference == intent.reference)
        .first()
    )
    return None if row is None else int(row["id"])
