"""Who acts and from where: what every audit row of a staff read or change keeps.

The web layer builds one `Acting` per request (the signed-in person's actor, the client's
address, its user agent); services below it hand it to `record` with each event, so no
service learns HTTP and none forgets the address or the agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.core import audit
from booking.core.audit import Actor, AuditAction


@dataclass(frozen=True, slots=True)
class Acting:
    """An actor of the audit log, the client address it acts from and its user agent."""

    actor: Actor
    client: str = ""
    agent: str = ""

    async def record(
        self, action: AuditAction, *, at: datetime, booking: str = "", record: str = ""
    ) -> None:
        """One audit event by this actor, inside the caller's transaction."""
        await audit.record(
            action,
            actor=self.actor,
            booking=booking,
            record=record,
            client=self.client,
            agent=self.agent,
            at=at,
        )
