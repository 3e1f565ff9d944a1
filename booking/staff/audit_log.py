"""The audit log as the admin reads it: who, what, which record, when, from where; filtered
by actor, booking, action and date, newest first, paged by the id of the last row shown.

The table is append-only in the database itself (migration m0015's triggers), so an id
cursor is stable: a page never shifts under the reader as new rows arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from booking.core.audit import AuditEvent
from booking.core.errors import ValidationFailed
from booking.core.timezones import zone
from booking.staff.access import require_admin
from booking.staff.principal import StaffPrincipal

PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Every part optional. `actor` is an audit label ("staff:7", "system", "partner:2") or
    a kind alone ("staff"); dates are the practice's."""

    actor: str | None = None
    booking: str | None = None
    action: str | None = None
    first: date | None = None
    last: date | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    booking: str
    record: str
    client: str


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: list[AuditEntry]
    # Pass as `before` for the next (older) page; None on the last page.
    next_before: int | None


class AuditLog:
    def __init__(self, practice_timezone: str) -> None:
        self.practice_timezone = practice_timezone

    async def page(
        self,
        principal: StaffPrincipal,
        filters: AuditFilter = AuditFilter(),
        before: int | None = None,
        page_size: int = PAGE_SIZE,
    ) -> AuditPage:
        """The newest `page_size` events matching `filters` older than id `before`."""
        require_admin(principal)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationFailed.on("page_size", f"A page holds 1 to {MAX_PAGE_SIZE} events.")
        where = self._where(filters)
        if before is not None:
            where = where & (AuditEvent._meta.primary_key < before)
        rows = await (
            AuditEvent.select(
                AuditEvent._meta.primary_key,
                AuditEvent.at,
                AuditEvent.actor,
                AuditEvent.action,
                AuditEvent.booking_reference,
                AuditEvent.record,
                AuditEvent.client_address,
            )
            .where(where)
            .order_by(AuditEvent._meta.primary_key, ascending=False)
            .limit(page_size + 1)
        )
        entries = [_entry(r) for r in rows[:page_size]]
        more = len(rows) > page_size
        return AuditPage(entries, entries[-1].id if more and entries else None)

    def _where(self, filters: AuditFilter) -> Any:
        where: Any = AuditEvent._meta.primary_key > 0
        if filters.actor:
            actor = filters.actor.strip().lower()
            if ":" in actor:
                where = where & (AuditEvent.actor == actor)
            else:
                where = where & (AuditEvent.actor_kind == actor)
        if filters.booking:
            where = where & (AuditEvent.booking_reference == filters.booking.strip().upper())
        if filters.action:
            where = where & (AuditEvent.action == filters.action.strip())
        if filters.first and filters.last and filters.last < filters.first:
            raise ValidationFailed.on("last", "The last date is before the first.")
        tz = zone(self.practice_timezone)
        if filters.first:
            where = where & (
                AuditEvent.at >= datetime.combine(filters.first, datetime.min.time(), tz)
            )
        if filters.last:
            end = datetime.combine(filters.last + timedelta(days=1), datetime.min.time(), tz)
            where = where & (AuditEvent.at < end)
        return where


async def booking_trail(reference: str) -> list[AuditEntry]:
    """Every event of one booking, oldest first (its page's history, its export)."""
    rows = await (
        AuditEvent.select(
            AuditEvent._meta.primary_key,
            AuditEvent.at,
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.booking_reference,
            AuditEvent.record,
            AuditEvent.client_address,
        )
        .where(AuditEvent.booking_reference == reference)
        .order_by(AuditEvent._meta.primary_key)
    )
    return [_entry(r) for r in rows]


def _entry(row: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        booking=row["booking_reference"],
        record=row["record"],
        client=row["client_address"],
    )
