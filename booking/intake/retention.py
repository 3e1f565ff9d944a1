"""Retention: the intake of a consultation that never took place is deleted after a period.

The privacy notice promises it. A booking cancelled, expired or marked no-show loses its
couple answers, every partner's private answers (every kept version) and its cancel reason once
INTAKE_RETENTION_DAYS have passed since it ended (the later of its scheduled end and its
cancellation). The booking, the partners' names and emails, their consents and the safety
flags stay: they are the record that the booking existed and how it was handled.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import datetime, timedelta

from booking.bookings.statuses import NEVER_TOOK_PLACE
from booking.bookings.tables import Booking, Partner
from booking.core import audit
from booking.core.audit import SYSTEM, AuditAction
from booking.core.db import write_transaction
from booking.core.timezones import Clock
from booking.intake.tables import AnswerVersion

log = logging.getLogger("booking.retention")

PURGE_EVERY = timedelta(days=1)
RETRY_AFTER = timedelta(minutes=10)
BATCH = 200


async def purge_expired_intakes(now: datetime, retention_days: int, batch: int = BATCH) -> int:
    """Delete the intake answers of every booking due for it; returns how many bookings.

    Idempotent and safe to run from any number of processes at once: each booking is purged
    and audited once, marked by `intake_purged_at`, and never touched by the purge again.
    """
    cutoff = now - timedelta(days=retention_days)
    purged = 0
    while True:
        async with write_transaction():
            due = await (
                Booking.select(Booking._meta.primary_key)
                .where(
                    Booking.status.is_in(list(NEVER_TOOK_PLACE))
                    & (Booking.ends_at < cutoff)
                    & (Booking.cancelled_at.is_null() | (Booking.cancelled_at < cutoff))
                    & Booking.intake_purged_at.is_null()
                )
                .order_by(Booking._meta.primary_key)
                .limit(batch)
                .output(as_list=True)
            )
            if not due:
                return purged
            # Re-checked in the update itself: a concurrent purge that marked a row first
            # (PostgreSQL waits for its commit) leaves it out of what this one returns.
            marked = await (
                Booking.update(
                    {
                        Booking.couple_answers: None,
                        Booking.cancel_reason: "",
                        Booking.cancel_reason_encrypted: None,
                        Booking.intake_purged_at: now,
                        Booking.updated_at: now,
                    }
                )
                .where(Booking._meta.primary_key.is_in(due) & Booking.intake_purged_at.is_null())
                .returning(Booking._meta.primary_key, Booking.reference)
            )
            if not marked:
                continue
            ids = [row["id"] for row in marked]
            await Partner.update({Partner.answers: None}).where(Partner.booking.is_in(ids))
            await AnswerVersion.delete().where(AnswerVersion.booking.is_in(ids))
            for row in marked:
                await audit.record(
                    AuditAction.INTAKE_PURGED,
                    actor=SYSTEM,
                    booking=row["reference"],
                    record="couple+partners",
                    at=now,
                )
        purged += len(marked)


async def purge_daily(clock: Clock, retention_days: int, stop: threading.Event) -> None:
    """Purge now and then once a day until `stop` is set (every worker runs it)."""
    while not stop.is_set():
        try:
            purged = await purge_expired_intakes(clock(), retention_days)
            wait = PURGE_EVERY
        except Exception:  # a database blip must not end the loop
            log.exception("intake purge failed; trying again in %s", RETRY_AFTER)
            wait = RETRY_AFTER
        else:
            if purged:
                log.info("purged the intake answers of %s booking(s)", purged)
        await asyncio.to_thread(stop.wait, wait.total_seconds())
