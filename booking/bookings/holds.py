"""Unpaid holds in the database: the query forms of the lifecycle's hold rule, and expiring
holds past their time (in a booking's transaction, and by the periodic sweep).

A query cannot call booking.bookings.lifecycle, so the rule is written here once more in SQL
form, each function naming the one it mirrors; tests/integration/bookings/test_hold_rule.py
holds the two forms to the same answers.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from piccolo.custom_types import Combinable

from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking
from booking.core.db import after_commit, write_transaction
from booking.core.metrics import HOLD_EXPIRIES
from booking.core.timezones import Clock


def lapsed_hold(now: datetime) -> Combinable:
    """Rows that are unpaid holds past their time at `now` (lifecycle.hold_lapsed)."""
    return (Booking.status == BookingStatus.PENDING_PAYMENT) & (
        Booking.hold_expires_at.is_null() | (Booking.hold_expires_at <= now)
    )


def live_hold(now: datetime) -> Combinable:
    """Rows that are unpaid holds still within their time at `now`."""
    return (Booking.status == BookingStatus.PENDING_PAYMENT) & (Booking.hold_expires_at > now)


def blocking(now: datetime) -> Combinable:
    """Rows that keep their therapist busy at `now` (lifecycle.blocks_time)."""
    return (Booking.status == BookingStatus.CONFIRMED) | live_hold(now)


async def expire_overdue_holds(
    therapist_id: int, starts_at: datetime, blocked_until: datetime, now: datetime
) -> None:
    """Expire unpaid holds past their time that overlap a range about to be booked.

    The database constraint cannot see the clock: an overdue hold still counts as live to it
    until its status changes, so the booking transaction changes it first. They are counted
    as expiries once it commits (a booking refused rolls them back: the sweep expires them).
    """
    expired = await (
        Booking.update({Booking.status: BookingStatus.EXPIRED, Booking.updated_at: now})
        .where(
            (Booking.therapist == therapist_id)
            & lapsed_hold(now)
            & (Booking.starts_at >= starts_at - timedelta(days=1))
            & (Booking.starts_at < blocked_until)
            & (Booking.blocked_until > starts_at)
        )
        .returning(Booking._meta.primary_key)
    )
    if expired:
        after_commit(lambda: HOLD_EXPIRIES.inc(len(expired)))


async def sweep_holds_forever(clock: Clock, interval_seconds: int) -> None:
    """Expire overdue holds every `interval_seconds`, until cancelled (the web process's
    lifespan runs it; any number of processes may, the update is idempotent)."""
    log = logging.getLogger("booking.holds")
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            expired = await sweep_expired_holds(clock())
        except Exception:  # a database blip must not end the loop
            log.exception("hold sweep failed; trying again in %s s", interval_seconds)
            continue
        if expired:
            log.info("expired %s unpaid hold(s)", expired)


async def sweep_expired_holds(now: datetime) -> int:
    """Expire every unpaid hold past its time; returns how many."""
    async with write_transaction():
        expired = await (
            Booking.update({Booking.status: BookingStatus.EXPIRED, Booking.updated_at: now})
            .where(lapsed_hold(now))
            .returning(Booking._meta.primary_key)
        )
        if expired:
            after_commit(lambda: HOLD_EXPIRIES.inc(len(expired)))
    return len(expired)
