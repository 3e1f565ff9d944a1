"""Writing the audit log. Every view, export or change of intake data leaves an event."""

from __future__ import annotations

from datetime import datetime

from booking.audit.tables import AuditEvent


async def record_event(
    actor: str, action: str, reference: str, record: str, client: str, at: datetime
) -> None:
    """One event: who (never a private answer), what, which booking and record, when, from
    where. Runs inside the caller's transaction, so the event and the change commit together."""
    await AuditEvent.insert(
        AuditEvent(
            at=at,
            actor=actor[:120],
            action=action[:60],
            booking_reference=reference,
            record=record[:120],
            client_address=client[:64],
        )
    )
