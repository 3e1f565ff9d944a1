"""What the admin's review asks of the person acting, and how its audit rows name them.

Every review service takes the signed-in `StaffPrincipal` and calls `require_admin` first: a
therapist (or anyone else) asking for the review's records gets the same 404 as for a booking
that does not exist (staff.md, "Signing in": what a person may not reach is a 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.core import audit
from booking.core.audit import AuditAction
from booking.core.errors import NotFound
from booking.staff.principal import StaffPrincipal


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a staff request came from, as the audit log keeps it: the client address digest
    and the browser's user agent (the web layer fills both; commands leave them empty)."""

    client: str = ""
    agent: str = ""


NOWHERE = Origin()


def require_admin(principal: StaffPrincipal) -> None:
    """Refuse anyone but an admin with the 404 of a record that does not exist."""
    if not principal.is_admin:
        raise NotFound("Nothing here.")


async def record(
    action: AuditAction,
    principal: StaffPrincipal,
    origin: Origin,
    *,
    booking: str = "",
    record: str = "",
    at: datetime,
) -> None:
    """One audit row for what `principal` did, in the caller's transaction.

    The one place the review passes its origin on: the user agent joins the row here once
    `booking.core.audit.record` keeps it.
    """
    await audit.record(
        action,
        actor=principal.actor,
        booking=booking,
        record=record,
        client=origin.client,
        at=at,
    )
