"""Idempotency-Key for booking requests: a repeat with the same key and body gets the first
answer back, for 24 hours; the same key with another body is refused."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from booking.bookings.schemas import BookingCreated, BookingIn
from booking.bookings.tables import Booking, IdempotencyKey
from booking.core.errors import ValidationFailed

IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first answer given for a key: its body without the manage link or support (both
    re-derived on replay), and the booking it created (None once that booking is gone)."""

    booking_id: int | None
    body: BookingCreated


def request_hash(data: BookingIn) -> str:
    """A digest of the request's content, whatever the order of its keys."""
    canonical = msgspec.json.encode(msgspec.to_builtins(data), order="sorted")
    return hashlib.sha256(canonical).hexdigest()


async def claim_key(key: str, digest: str, now: datetime) -> StoredAnswer | None:
    """Claim the key for the request `digest` (None), or return the answer already stored for
    it; ValidationFailed when the key was used for a different request.

    Runs in the booking's transaction. Concurrent requests with one key queue on its unique
    index: the first inserts, the others wait for its transaction and then read what it stored.
    """
    await IdempotencyKey.delete().where(
        (IdempotencyKey.key == key) & (IdempotencyKey.created_at <= now - IDEMPOTENCY_TTL)
    )
    inserted = await (
        IdempotencyKey.insert(IdempotencyKey(key=key, request_hash=digest, created_at=now))
        .on_conflict(action="DO NOTHING")
        .returning(IdempotencyKey._meta.primary_key)
    )
    if inserted:
        return None
    row = await IdempotencyKey.select().where(IdempotencyKey.key == key).first()
    if row is None or row["request_hash"] != digest:
        raise ValidationFailed.on(
            "Idempotency-Key",
            "This Idempotency-Key was already used for a different request.",
        )
    body = msgspec.json.decode(row["response_body"], type=BookingCreated)
    return StoredAnswer(row["booking"], body)


async def remember_answer(key: str, created: BookingCreated) -> None:
    """Store the answer for the key claimed in this transaction (links and support left out:
    the payment's link holds the manage token too)."""
    payment = created.payment and msgspec.structs.replace(created.payment, pay_url="")
    stored = msgspec.structs.replace(created, manage_url="", support=None, payment=payment)
    booking = (
        await Booking.select(Booking._meta.primary_key)
        .where(Booking.reference == created.reference)
        .first()
    )
    await IdempotencyKey.update(
        {
            IdempotencyKey.booking: booking["id"] if booking else None,
            # No longer read (the controller picks the status); kept for a version that does.
            IdempotencyKey.response_status: 201,
            IdempotencyKey.response_body: msgspec.json.encode(stored).decode(),
        }
    ).where(IdempotencyKey.key == key)
