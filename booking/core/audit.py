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
    # Someone not (yet) known: a sign-in with an email no account has.
    ANONYMOUS = "anonymous"


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
    # The staff side (booking.staff): sign-in, sessions and account changes.
    STAFF_PASSWORD_ACCEPTED = "staff.password_accepted"
    STAFF_SECOND_FACTOR_ACCEPTED = "staff.second_factor_accepted"
    STAFF_SIGNED_IN = "staff.signed_in"
    STAFF_SIGN_IN_FAILED = "staff.sign_in_failed"
    STAFF_SIGN_IN_THROTTLED = "staff.sign_in_throttled"
    STAFF_LOCKED = "staff.locked"
    STAFF_SECOND_FACTOR_FAILED = "staff.second_factor_failed"
    STAFF_RECOVERY_CODE_USED = "staff.recovery_code_used"
    STAFF_SIGNED_OUT = "staff.signed_out"
    STAFF_SIGNED_OUT_EVERYWHERE = "staff.signed_out_everywhere"
    STAFF_PASSWORD_CHANGED = "staff.password_changed"
    STAFF_TWO_FACTOR_ENROLLED = "staff.two_factor_enrolled"
    STAFF_RECOVERY_CODES_REPLACED = "staff.recovery_codes_replaced"
    STAFF_ACCOUNT_CREATED = "staff.account_created"
    STAFF_ACCOUNT_DISABLED = "staff.account_disabled"
    STAFF_ACCOUNT_ENABLED = "staff.account_enabled"
    STAFF_ACCOUNT_RESET = "staff.account_reset"
    STAFF_PASSWORD_RESET = "staff.password_reset"
    STAFF_SECOND_FACTOR_RESET = "staff.second_factor_reset"
    # The therapist's workspace: reads of intake data, changes of hours and preferences.
    INTAKE_LISTED = "intake.listed"
    INTAKE_VIEWED = "intake.viewed"
    BOOKING_COMPLETED = "booking.completed"
    BOOKING_NO_SHOW = "booking.no_show"
    HOURS_REPLACED = "hours.replaced"
    OVERRIDE_SET = "override.set"
    OVERRIDE_REMOVED = "override.removed"
    TIME_OFF_ADDED = "time_off.added"
    TIME_OFF_REMOVED = "time_off.removed"
    FEED_ROTATED = "feed.rotated"
    INVITATIONS_CHANGED = "feed.invitations"
    # The admin's review (booking.staff): one row per record read or changed.
    BOOKING_REASSIGNED = "booking.reassigned"
    REVIEW_STATUS_CHANGED = "review.status"
    NOTE_ADDED = "note.added"
    NOTE_READ = "note.read"
    BOOKING_EXPORTED = "booking.exported"
    BOOKING_ERASED = "booking.erased"
    PROFILE_CHANGED = "therapist.changed"
    CONSULTATION_TYPE_CHANGED = "consultation_type.changed"
    # An admin refunded a deposit (record: the amount, e.g. "5000 cad"; never card data).
    DEPOSIT_REFUNDED = "deposit.refunded"


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
ANONYMOUS = Actor(ActorKind.ANONYMOUS)
# What of a browser's User-Agent the audit log keeps.
AGENT_LENGTH = 200


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
    user_agent = Varchar(length=AGENT_LENGTH, default="")


async def record(
    action: AuditAction,
    *,
    actor: Actor,
    booking: str,
    at: datetime,
    record: str = "",
    client: str = "",
    agent: str = "",
) -> None:
    """One event: `action` by `actor` on booking `booking` (its reference; "" for none) and
    its `record` (which part: "partner:2 version 3"), at `at`, from `client` (an address
    digest), with the browser's User-Agent `agent` (cut to AGENT_LENGTH characters, control
    characters dropped). Runs inside the caller's transaction."""
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
            user_agent=_printable(agent)[:AGENT_LENGTH],
        )
    )


def _printable(text: str) -> str:
    """`text` without control characters (a header could carry them into a log viewer)."""
    return "".join(c for c in text if c.isprintable())
