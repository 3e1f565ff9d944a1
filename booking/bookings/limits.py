"""How many bookings one couple or one connection may hold: nobody takes the whole calendar.

An email (either partner's) may appear in BOOKING_LIMIT_PER_EMAIL live bookings that have not
started; a client address may hold HOLD_LIMIT_PER_ADDRESS unpaid holds and make
BOOKING_LIMIT_PER_ADDRESS_PER_DAY bookings in 24 hours. Addresses are recognised by their
keyed digest (booking.core.clients), never stored. A refusal names neither the email nor whose.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from piccolo.columns.combination import WhereRaw

from booking.bookings.holds import blocking, live_hold
from booking.bookings.tables import Booking, Partner
from booking.core.db import LockSpace, lock
from booking.core.errors import BookingLimitReached
from booking.core.settings import Settings

DAY = timedelta(days=1)


async def check_booking_limits(
    settings: Settings, emails: list[str], needs_deposit: bool, digest: str, now: datetime
) -> None:
    """Raise BookingLimitReached when a booking for `emails` from the address `digest` ("":
    unknown, not limited) would pass a limit.

    Call it in the booking transaction after the therapist's lock: it locks each email and
    the address, so concurrent bookings that share one see each other.
    """
    keys = sorted({email.lower() for email in emails})
    await _lock([f"email:{e}" for e in keys] + ([f"address:{digest}"] if digest else []))
    for email in keys:
        if await live_bookings_with_email(email, now) >= settings.bookings_per_email:
            raise BookingLimitReached(
                f"You already have {settings.bookings_per_email} upcoming consultations "
                "booked with one of these email addresses. Please cancel one from its "
                "confirmation email, or contact the practice."
            )
    if not digest:
        return
    from_address = Booking.client_digest == digest
    if needs_deposit:
        holds = await Booking.count().where(from_address & live_hold(now))
        if holds >= settings.holds_per_address:
            raise BookingLimitReached(
                f"{settings.holds_per_address} consultations are already held for payment from "
                "your connection. Please wait until one is paid or has expired, or contact the "
                "practice."
            )
    # Cancelled ones count too: booking and cancelling must not be a way to send emails.
    made = await Booking.count().where(from_address & (Booking.created_at > now - DAY))
    if made >= settings.bookings_per_address_per_day:
        raise BookingLimitReached(
            f"We take at most {settings.bookings_per_address_per_day} bookings a day from one "
            "connection. Please try again tomorrow, or contact the practice."
        )


async def live_bookings_with_email(email: str, now: datetime) -> int:
    """Live bookings that have not started with `email` for either partner (any case).

    Two plain lookups rather than one `IN (subquery)`: a plan made while the tables were small
    (asyncpg keeps prepared statements, PostgreSQL may reuse a generic plan) ran the subquery
    against every booking, and the count grew with the square of the bookings."""
    bookings = await (
        Partner.select(Partner.booking)
        .where(WhereRaw("lower(email) = lower({})", email))
        .output(as_list=True)
    )
    if not bookings:
        return 0
    count = await Booking.count().where(
        Booking._meta.primary_key.is_in(bookings) & (Booking.starts_at > now) & blocking(now)
    )
    return int(count)


async def _lock(keys: list[str]) -> None:
    # Sorted, and always after the therapist's lock, so two bookings never wait on each other
    # in a circle (SQLite's BEGIN IMMEDIATE already serialises every writer).
    ids = {
        int.from_bytes(hashlib.sha256(k.encode()).digest()[:4], "big", signed=True) for k in keys
    }
    for lock_id in sorted(ids):
        await lock(LockSpace.BOOKING_LIMIT, lock_id)
