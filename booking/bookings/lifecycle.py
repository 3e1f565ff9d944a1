"""The booking lifecycle as pure functions: what a booking's status is at a moment, which
changes it allows (and the reason a user reads when it refuses), and which messages a change
sends or makes obsolete.

No I/O here: services read the rows, ask these functions, and write what they answer. Every
rule is written once; the query forms of the hold rule (booking.bookings.holds) say which
function they mirror.

- a deposit's booking is held: pending_payment, until its hold lapses (expired), it is paid
  (confirm: confirmed) or cancelled;
- a free booking is confirmed at once (the same confirm);
- a confirmed booking is cancelled before it starts, or marked completed or no_show after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from booking.bookings.statuses import LIVE_STATUSES, BookingStatus, MessageKind, Recipient
from booking.core.errors import TooEarly, TooLate

# A manage link opens until this long after the consultation's end.
MANAGE_LINK_LIFETIME = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class BookingState:
    """What the lifecycle reads of a booking: its stored status and the times it turns on."""

    status: BookingStatus
    starts_at: datetime
    ends_at: datetime
    hold_expires_at: datetime | None = None
    # The calendar SEQUENCE: 0 at booking, +1 at every move and at cancellation.
    sequence: int = 0
    manage_generation: int = 0

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> BookingState:
        """The state of a `bookings` row (the columns it lacks take their defaults)."""
        return cls(
            status=BookingStatus(row["status"]),
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            hold_expires_at=row.get("hold_expires_at"),
            sequence=row.get("sequence", 0),
            manage_generation=row.get("manage_generation", 0),
        )


@dataclass(frozen=True, slots=True)
class Transition:
    """A change the lifecycle allows: the status and SEQUENCE it leaves, and its messages."""

    status: BookingStatus
    sequence: int
    # The message to both partners (and the therapist who wants it), if any.
    announce: MessageKind | None = None
    # Earlier reminders are obsolete (dropped in the change's transaction).
    drops_reminders: bool = False
    # Reminders for the (new) time are queued.
    queues_reminders: bool = False


# -- status --------------------------------------------------------------------------------


def hold_lapsed(status: BookingStatus, hold_expires_at: datetime | None, now: datetime) -> bool:
    """Whether this is an unpaid hold past its time (expired, whether swept yet or not)."""
    return status is BookingStatus.PENDING_PAYMENT and (
        hold_expires_at is None or hold_expires_at <= now
    )


def effective_status(
    status: BookingStatus, hold_expires_at: datetime | None, now: datetime
) -> BookingStatus:
    """The status as of `now`: an unpaid hold past its time is expired, swept or not."""
    return BookingStatus.EXPIRED if hold_lapsed(status, hold_expires_at, now) else status


def blocks_time(status: BookingStatus, hold_expires_at: datetime | None, now: datetime) -> bool:
    """Whether the booking keeps its therapist busy at `now`: it is live, as of `now`."""
    return effective_status(status, hold_expires_at, now) in LIVE_STATUSES


def status_of(state: BookingState, now: datetime) -> BookingStatus:
    """`effective_status` of a whole booking."""
    return effective_status(state.status, state.hold_expires_at, now)


def manage_link_open(ends_at: datetime, now: datetime) -> bool:
    """Whether a booking's manage link still opens (a while after the consultation too)."""
    return now <= ends_at + MANAGE_LINK_LIFETIME


def intake_open(state: BookingState, now: datetime) -> bool:
    """Whether partners' intake links open: for a live booking, until it starts."""
    return status_of(state, now) in LIVE_STATUSES and now < state.starts_at


# -- changes -------------------------------------------------------------------------------


def hold() -> Transition:
    """A new booking of a type with a deposit: held unpaid, in nobody's calendar yet."""
    return Transition(status=BookingStatus.PENDING_PAYMENT, sequence=0)


def confirm(state: BookingState | None, now: datetime) -> Transition:
    """Confirm a new free booking (`state` None) or a paid hold: it is invited and reminded.

    Raises TooLate for a hold that lapsed or was cancelled, or for anything but a hold.
    """
    if state is None:
        return Transition(
            status=BookingStatus.CONFIRMED,
            sequence=0,
            announce=MessageKind.INVITATION,
            queues_reminders=True,
        )
    status = status_of(state, now)
    if status is not BookingStatus.PENDING_PAYMENT:
        raise TooLate(f"A {status.label} booking cannot be confirmed.")
    return Transition(
        status=BookingStatus.CONFIRMED,
        sequence=state.sequence,
        announce=MessageKind.INVITATION,
        queues_reminders=True,
    )


def cancel_refusal(state: BookingState, now: datetime) -> str | None:
    """Why the booking cannot be cancelled at `now`, as the couple reads it; None if it can."""
    if status_of(state, now) not in LIVE_STATUSES or now >= state.starts_at:
        return "This booking can no longer be cancelled."
    return None


def cancel(state: BookingState, now: datetime) -> Transition | None:
    """Cancel; None when it is already cancelled (cancelling again answers the same).

    Raises TooLate with `cancel_refusal`'s reason. An unpaid hold was never in a calendar,
    so only a confirmed booking's cancellation is announced.
    """
    if state.status is BookingStatus.CANCELLED:
        return None
    refusal = cancel_refusal(state, now)
    if refusal is not None:
        raise TooLate(refusal)
    return Transition(
        status=BookingStatus.CANCELLED,
        sequence=state.sequence + 1,
        announce=MessageKind.CANCELLATION if state.status is BookingStatus.CONFIRMED else None,
        drops_reminders=True,
    )


def move_refusal(state: BookingState, cutoff_hours: int, now: datetime) -> str | None:
    """Why the booking cannot be moved at `now`, as the couple reads it; None if it can.

    A consultation type's reschedule cut-off is `cutoff_hours` before the start.
    """
    status = status_of(state, now)
    if status not in LIVE_STATUSES:
        return f"A {status.label} booking cannot be moved."
    if now > state.starts_at - timedelta(hours=cutoff_hours):
        return (
            f"Bookings can be moved until {cutoff_hours} hours before they start. "
            "Please contact the practice."
        )
    return None


def move(state: BookingState, cutoff_hours: int, now: datetime) -> Transition:
    """Move to another time: the status stays, the SEQUENCE rises; a confirmed booking's
    calendars get the update and its reminders follow the new time.

    Raises TooLate with `move_refusal`'s reason.
    """
    refusal = move_refusal(state, cutoff_hours, now)
    if refusal is not None:
        raise TooLate(refusal)
    confirmed = state.status is BookingStatus.CONFIRMED
    return Transition(
        status=state.status,
        sequence=state.sequence + 1,
        announce=MessageKind.UPDATE if confirmed else None,
        drops_reminders=confirmed,
        queues_reminders=confirmed,
    )


def reassign_refusal(state: BookingState, now: datetime) -> str | None:
    """Why the booking cannot be given to another therapist at `now`; None if it can."""
    status = status_of(state, now)
    if status not in LIVE_STATUSES:
        return f"A {status.label} booking cannot be reassigned."
    if now >= state.starts_at:
        return "A consultation that has started cannot be reassigned."
    return None


def reassign(state: BookingState, now: datetime) -> Transition:
    """Give the booking to another therapist (at its time or another): the status stays, the
    SEQUENCE rises; a confirmed booking's calendars are told (`MessageKind.REASSIGNED`) and
    its reminders follow the new SEQUENCE. The staff's decision: no cut-off applies.

    Raises TooLate with `reassign_refusal`'s reason.
    """
    refusal = reassign_refusal(state, now)
    if refusal is not None:
        raise TooLate(refusal)
    confirmed = state.status is BookingStatus.CONFIRMED
    return Transition(
        status=state.status,
        sequence=state.sequence + 1,
        announce=MessageKind.REASSIGNED if confirmed else None,
        drops_reminders=confirmed,
        queues_reminders=confirmed,
    )


def complete(state: BookingState, now: datetime) -> Transition:
    """Mark a confirmed consultation as having taken place, once it has started."""
    return _after_start(state, now, BookingStatus.COMPLETED)


def no_show(state: BookingState, now: datetime) -> Transition:
    """Mark a confirmed consultation as missed, once it has started."""
    return _after_start(state, now, BookingStatus.NO_SHOW)


def _after_start(state: BookingState, now: datetime, outcome: BookingStatus) -> Transition:
    status = status_of(state, now)
    if status is not BookingStatus.CONFIRMED:
        raise TooLate(f"A {status.label} booking cannot be marked {outcome.label}.")
    if now < state.starts_at:
        raise TooEarly(f"A consultation can be marked {outcome.label} once it has started.")
    # Nothing to send: the consultation is over; a reminder still pending is obsolete.
    return Transition(status=outcome, sequence=state.sequence, drops_reminders=True)


# -- messages ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Message:
    """What the lifecycle reads of an outbox row."""

    kind: MessageKind
    recipient: Recipient
    # The SEQUENCE it speaks for (a renewed link's: the link's generation).
    sequence: int


def obsolete(
    message: Message, state: BookingState, now: datetime, intake_generation: int = 0
) -> str | None:
    """Why the message should no longer be sent, or None (`intake_generation`: that of the
    partner a renewed intake link is addressed to).

    The practice hears of every flagged event, and the booker of a refunded late payment,
    whatever happened since; a cancellation goes
    out while the booking stays cancelled; anything else only for a confirmed booking, for its
    current SEQUENCE, and a reminder only before the start.
    """
    if message.recipient is Recipient.PRACTICE:
        return None
    if message.recipient is Recipient.FORMER_THERAPIST:
        # The therapist a booking left hears of it whatever happened since (delivery skips it
        # only when the booking came back to them).
        return None
    if message.kind is MessageKind.NEW_MANAGE_LINK:
        if message.sequence < state.manage_generation:
            return "superseded by a newer link"
        if not manage_link_open(state.ends_at, now):
            return "the manage link has expired"
        return None
    if message.kind is MessageKind.NEW_INTAKE_LINK:
        if message.sequence < intake_generation:
            return "superseded by a newer link"
        if not intake_open(state, now):
            return "the intake link no longer opens"
        return None
    if (
        message.kind in (MessageKind.PAYMENT_REFUNDED, MessageKind.DEPOSIT_REFUNDED)
        or message.kind.is_payment_job
    ):
        # Money owed back is owed whatever the booking became.
        return None
    if message.kind is MessageKind.CANCELLATION:
        return None if state.status is BookingStatus.CANCELLED else "booking not cancelled"
    if state.status is not BookingStatus.CONFIRMED:
        return f"booking {state.status}"
    if message.sequence < state.sequence:
        return "superseded by a later change"
    if message.kind is MessageKind.REMINDER and state.starts_at <= now:
        return "the consultation has started"
    return None
