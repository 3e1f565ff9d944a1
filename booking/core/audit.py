"""The audit log: who viewed, exported or changed intake data or a booking, what, when and
from where. Every part of the service records through `record`, inside its own transaction,
so an event and the change it speaks of commit together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ActorKind(StrEnum):
    """Who acted: the couple through their manage link, one partner through their own part,
    a member of staff, or the service itself (a command, a worker)."""

    COUPLE = "couple"
    PARTNER = "partner"
    STAFF = "staff"
    SYSTEM = "system"


class AuditAction(StrEnum):
    """What happened; the stored `action` values."""

    INTAKE_SUBMITTED = "intake.submitted"
    INTAKE_REPLACED = "intake.replaced"
    INTAKE_PURGED = "intake.purged"
    INTAKE_REENCRYPTED = "intake.reencrypted"
    BOOKING_CANCELLED = "booking.cancelled"
    BOOKING_RESCHEDULED = "booking.rescheduled"
    LINK_REVOKED = "link.revoked"
    SAFETY_RESOLVED = "safety.resolved"
    # The admin's review (booking.staff): one row per record read or changed.
    BOOKING_REASSIGNED = "booking.reassigned"
    INTAKE_LISTED = "intake.listed"
    INTAKE_VIEWED = "intake.viewed"
    REVIEW_STATUS_CHANGED = "review.status"
    NOTE_ADDED = "note.added"
    NOTE_READ = "note.read"
    BOOKING_EXPORTED = "booking.exported"
    BOOKING_ERASED = "booking.erased"
    PROFILE_CHANGED = "therapist.changed"
    CONSULTATION_TYPE_CHANGED = "consultation_type.changed"


@dataclass(frozen=True, slots=True)
class Actor:
    """An actor of the audit log: its kind and, for a partner or staff, which one (the
    partner's position, the staff member's id). Never a name, an email or an answer."""

    kind: ActorKind
    ref: str = ""

    @classmethod
    def partner(cls, position: int) -> Actor:
        return cls(ActorKind.PARTNER, str(position))

    @classmethod
    def staff(cls, staff_id: int | str) -> Actor:
        return cls(ActorKind.STAFF, str(staff_id))

    @property
    def label(self) -> str:
        """The actor as one word, as the `actor` column keeps it: "partner:2", "system"."""
        return f"{self.kind}:{self.ref}" if self.ref else str(self.kind)


COUPLE = Actor(ActorKind.COUPLE)
SYSTEM = Actor(ActorKind.SYSTEM)


class AuditEvent(Table, tablename="audit_events"):
    at = Timestamptz(default=TimestamptzNow(), index=True)
    # The rendered label of (actor_kind, actor_ref): "partner:2", "staff:7", "system".
    actor = Varchar(length=120)
    actor_kind = Varchar(length=10, default=ActorKind.SYSTEM.value)
    actor_ref = Varchar(length=40, default="")
    action = Varchar(length=60, index=True)
    booking_reference = Varchar(length=20, default="", index=True)
    record = Varchar(length=120, default="")
    client_address = Varchar(length=64, default="")


async def record(
    action: AuditAction,
    *,
    actor: Actor,
    booking: str,
    at: datetime,
    record: str = "",
    client: str = "",
) -> None:
    """One event: `action` by `actor` on booking `booking` (its reference; "" for none) and
    its `record` (which part: "partner:2 version 3"), at `at`, from `client` (an address
    digest). Runs inside the caller's transaction."""
    await AuditEvent.insert(
        AuditEvent(
            at=at,
            actor=actor.label[:120],
            actor_kind=actor.kind.value,
            actor_ref=actor.ref[:40],
            action=action.value,
            booking_reference=booking,
            record=record[:120],
            client_address=client[:64],
        )
    )
