"""The audit log: append-only in the database itself, and read by the admin with filters."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from booking.core import audit
from booking.core.audit import SYSTEM, Actor, AuditAction, AuditEvent
from booking.core.errors import NotFound, ValidationFailed
from booking.intake.retention import purge_expired_intakes
from booking.staff.audit_log import AuditFilter
from tests.fixtures.databases import Database
from tests.integration.bookings.test_retention import DAYS, seed_booking
from tests.integration.conftest import NOW
from tests.integration.practice import Practice
from tests.integration.staff.conftest import ADMIN, Staff, therapist_principal


async def one_event() -> int:
    await audit.record(
        AuditAction.LINK_REVOKED, actor=SYSTEM, booking="ABCD-EFGH", record="manage link", at=NOW
    )
    row = await (
        AuditEvent.select(AuditEvent._meta.primary_key)
        .order_by(AuditEvent._meta.primary_key, ascending=False)
        .first()
    )
    assert row is not None
    return int(row["id"])


async def test_the_audit_table_refuses_update_and_delete(database: Database) -> None:
    event = await one_event()

    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.raw("UPDATE audit_events SET actor = 'staff:9' WHERE id = {}", event)
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.raw("DELETE FROM audit_events WHERE id = {}", event)
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.delete(force=True)

    rows = await AuditEvent.select(AuditEvent.actor, AuditEvent.record)
    assert rows == [{"actor": "system", "record": "manage link"}]
    # Appending still works: the log only grows.
    await one_event()
    assert await AuditEvent.count() == 2


async def test_the_purge_still_writes_its_rows_and_shows_as_the_system(
    database: Database, practice: Practice, staff: Staff
) -> None:
    await seed_booking(practice, "CANC-0181", "cancelled", 181 * DAYS, 182 * DAYS)

    assert await purge_expired_intakes(NOW, 180) == 1

    page = await staff.audit.page(ADMIN, AuditFilter(actor="system"))
    assert [(e.actor, e.action, e.booking) for e in page.entries] == [
        ("system", "intake.purged", "CANC-0181")
    ]


async def test_the_log_filters_by_actor_booking_action_and_date(
    database: Database, staff: Staff
) -> None:
    for days, actor, action, booking in (
        (3, Actor.staff(1), AuditAction.INTAKE_VIEWED, "AAAA-0001"),
        (2, Actor.staff(7), AuditAction.NOTE_ADDED, "AAAA-0001"),
        (1, Actor.partner(2), AuditAction.INTAKE_SUBMITTED, "BBBB-0002"),
        (0, SYSTEM, AuditAction.INTAKE_PURGED, "BBBB-0002"),
    ):
        await audit.record(
            action, actor=actor, booking=booking, record="x", at=NOW - timedelta(days=days)
        )

    async def actions(**filters: object) -> list[str]:
        page = await staff.audit.page(ADMIN, AuditFilter(**filters))  # type: ignore[arg-type]
        return [e.action for e in page.entries]

    assert await actions() == [
        "intake.purged",
        "intake.submitted",
        "note.added",
        "intake.viewed",
    ]
    assert await actions(actor="staff:7") == ["note.added"]
    assert await actions(actor="staff") == ["note.added", "intake.viewed"]
    assert await actions(booking="aaaa-0001") == ["note.added", "intake.viewed"]
    assert await actions(action="intake.submitted") == ["intake.submitted"]
    assert await actions(first=date(2026, 11, 30), last=date(2026, 12, 1)) == [
        "intake.submitted",
        "note.added",
    ]
    with pytest.raises(ValidationFailed) as refused:
        await actions(first=date(2026, 12, 2), last=date(2026, 12, 1))
    assert refused.value.fields[0].field == "last"


async def test_the_log_pages_newest_first_without_repeating_a_row(
    database: Database, staff: Staff
) -> None:
    for n in range(7):
        await audit.record(
            AuditAction.INTAKE_VIEWED, actor=SYSTEM, booking="", record=f"r{n}", at=NOW
        )

    first = await staff.audit.page(ADMIN, page_size=3)
    # New rows arriving between pages do not shift the next page.
    await audit.record(AuditAction.INTAKE_VIEWED, actor=SYSTEM, booking="", record="new", at=NOW)
    second = await staff.audit.page(ADMIN, before=first.next_before, page_size=3)
    third = await staff.audit.page(ADMIN, before=second.next_before, page_size=3)

    seen = [e.record for page in (first, second, third) for e in page.entries]
    assert seen == ["r6", "r5", "r4", "r3", "r2", "r1", "r0"]
    assert third.next_before is None


async def test_a_therapist_reaches_no_audit_log(
    database: Database, practice: Practice, staff: Staff
) -> None:
    with pytest.raises(NotFound):
        await staff.audit.page(therapist_principal(practice.therapist_id))
