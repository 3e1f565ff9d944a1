"""The audit log records a structured actor (kind and reference) beside its label, is indexed
for the questions asked of it, and the outbox's own key is the dedupe key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine.base import Engine

from booking.bookings.statuses import MessageKind, Recipient
from booking.bookings.tables import Booking
from booking.core import audit
from booking.core.audit import COUPLE, SYSTEM, Actor, ActorKind, AuditAction, AuditEvent
from booking.core.db import (
    write_transaction,
)
from booking.notifications.outbox import queue_messages
from booking.notifications.tables import OutboxMessage
from booking.piccolo_app import migrate
from tests.fixtures.databases import BACKENDS, Database, migrated_up_to
from tests.integration.conftest import NOW
from tests.integration.practice import Practice

BEFORE = "2026-12-02T10:20:00:000000"  # m0009
EVENT_COLUMNS = (
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.actor_kind,
    AuditEvent.actor_ref,
    AuditEvent.action,
    AuditEvent.booking_reference,
    AuditEvent.record,
    AuditEvent.client_address,
)


async def raw(sql: str, *values: Any) -> list[dict[str, Any]]:
    return list(await AuditEvent.raw(sql, *values))


async def test_an_event_keeps_its_actor_as_kind_reference_and_label(database: Database) -> None:
    async with write_transaction():
        await audit.record(
            AuditAction.SAFETY_RESOLVED,
            actor=Actor.staff(7),
            booking="ABCD-EFGH",
            record="booking",
            client="c0ffee",
            at=NOW,
        )
        await audit.record(AuditAction.INTAKE_PURGED, actor=SYSTEM, booking="JKMN-PQRS", at=NOW)
        await audit.record(
            AuditAction.INTAKE_SUBMITTED,
            actor=Actor.partner(2),
            booking="ABCD-EFGH",
            record="partner:2 version 1",
            at=NOW,
        )
        await audit.record(AuditAction.BOOKING_CANCELLED, actor=COUPLE, booking="X", at=NOW)

    events = await AuditEvent.select(*EVENT_COLUMNS).order_by(AuditEvent._meta.primary_key)

    assert events == [
        {
            "at": NOW,
            "actor": "staff:7",
            "actor_kind": "staff",
            "actor_ref": "7",
            "action": "safety.resolved",
            "booking_reference": "ABCD-EFGH",
            "record": "booking",
            "client_address": "c0ffee",
        },
        {
            "at": NOW,
            "actor": "system",
            "actor_kind": "system",
            "actor_ref": "",
            "action": "intake.purged",
            "booking_reference": "JKMN-PQRS",
            "record": "",
            "client_address": "",
        },
        {
            "at": NOW,
            "actor": "partner:2",
            "actor_kind": "partner",
            "actor_ref": "2",
            "action": "intake.submitted",
            "booking_reference": "ABCD-EFGH",
            "record": "partner:2 version 1",
            "client_address": "",
        },
        {
            "at": NOW,
            "actor": "couple",
            "actor_kind": "couple",
            "actor_ref": "",
            "action": "booking.cancelled",
            "booking_reference": "X",
            "record": "",
            "client_address": "",
        },
    ]


def test_record_takes_everything_but_the_action_by_keyword() -> None:
    # Binding the arguments fails at the call, before any coroutine exists to await.
    with pytest.raises(TypeError):
        audit.record(  # type: ignore[call-arg, unused-coroutine]
            AuditAction.LINK_REVOKED, SYSTEM, "ABCD-EFGH", NOW
        )


async def indexes(database: Database, table: str) -> dict[str, str]:
    """Each index of `table` by name, with its definition as the database shows it."""
    if database.backend == "postgres":
        rows = await raw(
            "SELECT indexname AS name, indexdef AS sql FROM pg_indexes WHERE tablename = {}",
            table,
        )
    else:
        rows = await raw(
            "SELECT name, coalesce(sql, '') AS sql FROM sqlite_master"
            " WHERE type = 'index' AND tbl_name = {}",
            table,
        )
    return {row["name"]: row["sql"].replace('"', "") for row in rows}


async def test_the_audit_log_is_indexed_on_its_time_and_its_action(database: Database) -> None:
    found = await indexes(database, "audit_events")

    assert "(at)" in found["audit_events_at"]
    assert "(action)" in found["audit_events_action"]
    assert "(booking_reference)" in found["audit_events_booking_reference"]


async def test_the_outbox_key_is_the_dedupe_key_and_stays_unique(
    database: Database, practice: Practice
) -> None:
    booking = await practice_booking(practice)
    for _ in range(2):  # the same message queued twice is one row
        async with write_transaction():
            await queue_messages(
                booking, "ABCD-EFGH", MessageKind.INVITATION, 0, [Recipient.PARTNER_1], NOW
            )

    rows = await OutboxMessage.select(OutboxMessage.dedupe_key)
    if database.backend == "postgres":
        columns = await raw(
            "SELECT column_name AS name FROM information_schema.columns"
            " WHERE table_name = 'outbox_messages'"
        )
    else:
        columns = await raw("SELECT name FROM pragma_table_info('outbox_messages')")
    names = {c["name"] for c in columns}

    assert rows == [{"dedupe_key": "ABCD-EFGH:invitation:0:partner:1"}]
    assert "dedupe_key" in names
    assert "idempotency_key" not in names
    if database.backend == "postgres":
        unique = await indexes(database, "outbox_messages")
        assert "(dedupe_key)" in unique["outbox_messages_dedupe_key_key"]
    with pytest.raises(Exception, match=r"(?i)unique"):
        await raw(
            "INSERT INTO outbox_messages (booking, kind, recipient, sequence, dedupe_key,"
            " status, due_at, next_attempt_at, attempts, last_error, message_id, created_at)"
            " VALUES ({}, 'invitation', 'partner:1', 0, {}, 'pending', {}, {}, 0, '', '', {})",
            booking,
            "ABCD-EFGH:invitation:0:partner:1",
            NOW,
            NOW,
            NOW,
        )


async def practice_booking(practice: Practice) -> int:
    """A confirmed booking tomorrow, for outbox rows to belong to."""
    starts = NOW + timedelta(days=1)
    (row,) = await Booking.insert(
        Booking(
            reference="ABCD-EFGH",
            therapist=practice.therapist_id,
            consultation_type=practice.type_id,
            status="confirmed",
            mode="phone",
            starts_at=starts,
            ends_at=starts + timedelta(minutes=50),
            blocked_until=starts + timedelta(hours=1),
            created_at=NOW,
            updated_at=NOW,
            questionnaire_version="couples-2026-1",
        )
    ).returning(Booking._meta.primary_key)
    return int(row["id"])


@pytest.fixture(params=BACKENDS)
async def before_m0010(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Engine[Any]]:
    """An empty database of its own, migrated up to m0009 only."""
    async with migrated_up_to(request.param, BEFORE, tmp_path) as engine:
        yield engine


async def test_m0010_gives_existing_events_the_kind_and_reference_of_their_label(
    before_m0010: Engine[Any],
) -> None:
    labels = ["partner:2", "booker", "staff:7", "couple", "system"]
    for label in labels:
        await raw(
            "INSERT INTO audit_events (at, actor, action, booking_reference, record,"
            " client_address) VALUES ({}, {}, 'intake.submitted', 'ABCD-EFGH', '', '')",
            NOW,
            label,
        )

    await migrate(before_m0010)

    events = await raw("SELECT actor, actor_kind, actor_ref FROM audit_events ORDER BY id")
    assert [(e["actor"], e["actor_kind"], e["actor_ref"]) for e in events] == [
        ("partner:2", ActorKind.PARTNER, "2"),
        ("booker", ActorKind.PARTNER, "1"),
        ("staff:7", ActorKind.STAFF, "7"),
        ("couple", ActorKind.COUPLE, ""),
        ("system", ActorKind.SYSTEM, ""),
    ]
