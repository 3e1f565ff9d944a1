"""The outbox: rows written with the booking change that causes them, claimed with a lease.

Writers call `queue_*` inside their own transaction, so a message exists exactly when the
change that causes it committed. Workers claim due rows (`claim_due`), hand their ids to the
broker, and record the outcome (`mark_sent`, `mark_failed_attempt`, `mark_skipped`). A claim is
a lease: a row whose worker died is claimed again once the lease runs out, and the outbox alone
decides when a failed attempt is retried.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from booking.bookings.statuses import PARTNERS, MessageKind, Recipient
from booking.core.db import bound, write_transaction
from booking.notifications.records import FailedMessage, OutboxRecord
from booking.notifications.tables import OutboxMessage

# Retry schedule for temporary failures: 1, 2, 4, ... minutes, capped at an hour.
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)


def dedupe_key(reference: str, kind: MessageKind, sequence: int, recipient: Recipient) -> str:
    """The outbox row's unique key: one message per booking, kind, sequence and recipient."""
    return f"{reference}:{kind}:{sequence}:{recipient}"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt."""
    delay: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, LONGEST_RETRY)


async def queue_messages(
    booking_id: int,
    reference: str,
    kind: MessageKind,
    sequence: int,
    recipients: Iterable[Recipient],
    now: datetime,
) -> None:
    """One row per recipient for a booking change (inside the caller's transaction)."""
    rows = [
        OutboxMessage(
            booking=booking_id,
            kind=kind,
            recipient=recipient,
            sequence=sequence,
            dedupe_key=dedupe_key(reference, kind, sequence, recipient),
            status="pending",
            due_at=now,
            next_attempt_at=now,
            created_at=now,
        )
        for recipient in recipients
    ]
    if rows:
        await OutboxMessage.insert(*rows).on_conflict(action="DO NOTHING")


async def queue_former_therapist(
    booking_id: int, reference: str, sequence: int, therapist_id: int, now: datetime
) -> None:
    """The reassignment's CANCEL to the therapist the booking left (in the caller's
    transaction); one per SEQUENCE, like every message of a change."""
    recipient = Recipient.FORMER_THERAPIST
    await OutboxMessage.insert(
        OutboxMessage(
            booking=booking_id,
            kind=MessageKind.REASSIGNED,
            recipient=recipient,
            sequence=sequence,
            dedupe_key=dedupe_key(reference, MessageKind.REASSIGNED, sequence, recipient),
            status="pending",
            due_at=now,
            next_attempt_at=now,
            created_at=now,
            therapist_id=therapist_id,
        )
    ).on_conflict(action="DO NOTHING")


async def queue_practice_notice(
    booking_id: int, reference: str, kind: MessageKind, sequence: int, now: datetime
) -> None:
    """One notice to the practice (inside the caller's transaction).

    Its key ends in a random part: two flagged submissions of one booking, or a move and then
    a cancellation, are separate events and each gets its own row. The row is written once,
    with the change that causes it, so the key needs no other determinism.
    """
    key = f"{dedupe_key(reference, kind, sequence, Recipient.PRACTICE)}:{secrets.token_hex(8)}"
    await OutboxMessage.insert(
        OutboxMessage(
            booking=booking_id,
            kind=kind,
            recipient=Recipient.PRACTICE,
            sequence=sequence,
            dedupe_key=key,
            status="pending",
            due_at=now,
            next_attempt_at=now,
            created_at=now,
        )
    )


async def queue_payment_job(
    booking_id: int, kind: MessageKind, key: str, now: datetime, sequence: int = 0
) -> bool:
    """One piece of work for the payment provider (MessageKind.is_payment_job), in the
    caller's transaction, under its own deterministic `key`; False when it was queued before.

    Delivered like a message (claimed with a lease, retried with backoff, `booking outbox
    failed` when it gives up), but run by the payments domain instead of sent.
    """
    if not kind.is_payment_job:
        raise ValueError(f"{kind} is not work for the payment provider")
    queued = await (
        OutboxMessage.insert(
            OutboxMessage(
                booking=booking_id,
                kind=kind,
                recipient=Recipient.PAYMENT_PROVIDER,
                sequence=sequence,
                dedupe_key=key,
                status="pending",
                due_at=now,
                next_attempt_at=now,
                created_at=now,
            )
        )
        .on_conflict(action="DO NOTHING")
        .returning(OutboxMessage._meta.primary_key)
    )
    return bool(queued)


async def queue_reminders(
    booking_id: int,
    reference: str,
    sequence: int,
    starts_at: datetime,
    before: timedelta | None,
    now: datetime,
) -> None:
    """Reminders for both partners, due `before` the start (none if that moment has passed,
    or if reminders are off)."""
    if before is None:
        return
    due = starts_at - before
    if due <= now:
        return
    await OutboxMessage.insert(
        *[
            OutboxMessage(
                booking=booking_id,
                kind=MessageKind.REMINDER,
                recipient=recipient,
                sequence=sequence,
                dedupe_key=dedupe_key(reference, MessageKind.REMINDER, sequence, recipient),
                status="pending",
                due_at=due,
                next_attempt_at=due,
                created_at=now,
            )
            for recipient in PARTNERS
        ]
    ).on_conflict(action="DO NOTHING")


async def drop_pending_reminders(booking_id: int) -> None:
    """A moved or cancelled booking's earlier reminders are never sent."""
    await OutboxMessage.update(
        {OutboxMessage.status: "skipped", OutboxMessage.last_error: "superseded"}
    ).where(
        (OutboxMessage.booking == booking_id)
        & (OutboxMessage.kind == MessageKind.REMINDER)
        & (OutboxMessage.status == "pending")
    )


class Claimed(NamedTuple):
    """A claimed row: its id, and the request that wrote it (for the delivery's log lines)."""

    id: int
    request_id: str | None


async def claim_due(now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
    """Claim up to `limit` due rows for `lease`; returns each one's id and
    the request that wrote it.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers claiming at once take different rows.
    SQLite: the claim runs in BEGIN IMMEDIATE, one writer at a time.
    """
    async with write_transaction():
        if bound().skip_locked:
            rows = await OutboxMessage.raw(
                "UPDATE outbox_messages SET lease_until = {}, relayed_at = {} WHERE id IN ("
                " SELECT id FROM outbox_messages"
                " WHERE status = 'pending' AND due_at <= {} AND next_attempt_at <= {}"
                " AND (lease_until IS NULL OR lease_until < {})"
                " ORDER BY due_at, id LIMIT {} FOR UPDATE SKIP LOCKED"
                ") RETURNING id, request_id",
                now + lease,
                now,
                now,
                now,
                now,
                limit,
            )
        else:
            due = await (
                OutboxMessage.select(OutboxMessage._meta.primary_key, OutboxMessage.request_id)
                .where(_claimable(now))
                .order_by(OutboxMessage.due_at)
                .order_by(OutboxMessage._meta.primary_key)
                .limit(limit)
            )
            ids = [r["id"] for r in due]
            if ids:
                await OutboxMessage.update(
                    {OutboxMessage.lease_until: now + lease, OutboxMessage.relayed_at: now}
                ).where(OutboxMessage._meta.primary_key.is_in(ids))
            rows = due
    return [Claimed(int(r["id"]), r["request_id"]) for r in rows]


def _claimable(now: datetime) -> Any:
    return (
        (OutboxMessage.status == "pending")
        & (OutboxMessage.due_at <= now)
        & (OutboxMessage.next_attempt_at <= now)
        & (OutboxMessage.lease_until.is_null() | (OutboxMessage.lease_until < now))
    )


async def take_for_delivery(row: OutboxRecord, now: datetime, lease: timedelta) -> bool:
    """Renew the row's lease for this delivery, unless another delivery already has.

    A row can reach the broker twice (its lease ran out while it waited in a queue); the
    lease as read is the ticket: only one delivery can move it on, the other sends nothing.
    """
    held = (
        OutboxMessage.lease_until.is_null()
        if row.lease_until is None
        else OutboxMessage.lease_until == row.lease_until
    )
    taken = await (
        OutboxMessage.update({OutboxMessage.lease_until: now + lease})
        .where(
            (OutboxMessage._meta.primary_key == row.id) & (OutboxMessage.status == "pending") & held
        )
        .returning(OutboxMessage._meta.primary_key)
    )
    return bool(taken)


async def release(ids: list[int]) -> None:
    """Give claimed rows back at once (their hand-off to the broker failed)."""
    if ids:
        await OutboxMessage.update({OutboxMessage.lease_until: None}).where(
            OutboxMessage._meta.primary_key.is_in(ids) & (OutboxMessage.status == "pending")
        )


async def load(message_id: int) -> OutboxRecord | None:
    """The outbox row `message_id`, or None."""
    row = await OutboxMessage.select().where(OutboxMessage._meta.primary_key == message_id).first()
    return None if row is None else OutboxRecord.from_row(row)


async def mark_sent(message_id: int, smtp_message_id: str, now: datetime) -> None:
    await OutboxMessage.update(
        {
            OutboxMessage.status: "sent",
            OutboxMessage.sent_at: now,
            OutboxMessage.message_id: smtp_message_id,
            OutboxMessage.lease_until: None,
            OutboxMessage.attempts: OutboxMessage.attempts + 1,
        }
    ).where((OutboxMessage._meta.primary_key == message_id) & (OutboxMessage.status == "pending"))


async def mark_skipped(message_id: int, reason: str) -> None:
    await OutboxMessage.update(
        {
            OutboxMessage.status: "skipped",
            OutboxMessage.last_error: reason,
            OutboxMessage.lease_until: None,
        }
    ).where((OutboxMessage._meta.primary_key == message_id) & (OutboxMessage.status == "pending"))


async def mark_failed_attempt(message_id: int, error: str, permanent: bool, now: datetime) -> str:
    """Record a failed attempt: retried later with backoff, or failed for good. Returns the
    row's new status."""
    row = await load(message_id)
    if row is None or row.status != "pending":
        return row.status if row else "missing"
    attempts = row.attempts + 1
    status = "failed" if permanent or attempts >= MAX_ATTEMPTS else "pending"
    await OutboxMessage.update(
        {
            OutboxMessage.status: status,
            OutboxMessage.attempts: attempts,
            OutboxMessage.last_error: error[:2000],
            OutboxMessage.next_attempt_at: now + retry_delay(attempts),
            OutboxMessage.lease_until: None,
        }
    ).where((OutboxMessage._meta.primary_key == message_id) & (OutboxMessage.status == "pending"))
    return status


async def failed_messages() -> list[FailedMessage]:
    """Rows that gave up, for the operator, newest first."""
    rows = await (
        OutboxMessage.select(
            OutboxMessage._meta.primary_key,
            OutboxMessage.booking.reference.as_alias("reference"),
            OutboxMessage.kind,
            OutboxMessage.recipient,
            OutboxMessage.sequence,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.created_at,
        )
        .where(OutboxMessage.status == "failed")
        .order_by(OutboxMessage.created_at, ascending=False)
    )
    return [FailedMessage.from_row(r) for r in rows]


async def redrive(message_ids: list[int] | None, now: datetime) -> int:
    """Put failed rows back in line (all of them when `message_ids` is None)."""
    query = OutboxMessage.update(
        {
            OutboxMessage.status: "pending",
            OutboxMessage.attempts: 0,
            OutboxMessage.next_attempt_at: now,
            OutboxMessage.lease_until: None,
        }
    ).where(OutboxMessage.status == "failed")
    if message_ids is not None:
        query = query.where(OutboxMessage._meta.primary_key.is_in(message_ids or [0]))
    return len(await query.returning(OutboxMessage._meta.primary_key))
