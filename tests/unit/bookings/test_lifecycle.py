"""Behaviour of the booking lifecycle (booking.bookings.lifecycle): pure, no database.

Each test reads Given / When / Then; times are UTC around one Monday consultation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from booking.bookings import lifecycle
from booking.bookings.lifecycle import BookingState, Message, Transition
from booking.bookings.statuses import BookingStatus, MessageKind, Recipient
from booking.core.errors import TooEarly, TooLate

START = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
END = START + timedelta(minutes=30)
NOW = START - timedelta(days=3)
CUTOFF_HOURS = 24


def booking(status: BookingStatus = BookingStatus.CONFIRMED, **fields: object) -> BookingState:
    values: dict[str, object] = {"status": status, "starts_at": START, "ends_at": END}
    if status is BookingStatus.PENDING_PAYMENT:
        values["hold_expires_at"] = NOW + timedelta(minutes=15)
    values.update(fields)
    return BookingState(**values)  # type: ignore[arg-type]


# -- the hold rule ---------------------------------------------------------------------------


def test_a_hold_within_its_time_is_pending_and_blocks_its_time() -> None:
    held = booking(BookingStatus.PENDING_PAYMENT)

    assert lifecycle.status_of(held, NOW) is BookingStatus.PENDING_PAYMENT
    assert lifecycle.blocks_time(held.status, held.hold_expires_at, NOW)


@pytest.mark.parametrize("late", [timedelta(0), timedelta(seconds=1), timedelta(days=1)])
def test_a_hold_at_or_past_its_time_is_expired_and_frees_its_time(late: timedelta) -> None:
    held = booking(BookingStatus.PENDING_PAYMENT)
    at = (held.hold_expires_at or NOW) + late

    assert lifecycle.hold_lapsed(held.status, held.hold_expires_at, at)
    assert lifecycle.status_of(held, at) is BookingStatus.EXPIRED
    assert not lifecycle.blocks_time(held.status, held.hold_expires_at, at)


def test_a_hold_without_an_expiry_counts_as_lapsed() -> None:
    assert lifecycle.status_of(
        booking(BookingStatus.PENDING_PAYMENT, hold_expires_at=None), NOW
    ) is (BookingStatus.EXPIRED)


@pytest.mark.parametrize(
    ("status", "blocks"),
    [
        (BookingStatus.CONFIRMED, True),
        (BookingStatus.CANCELLED, False),
        (BookingStatus.EXPIRED, False),
        (BookingStatus.COMPLETED, False),
        (BookingStatus.NO_SHOW, False),
    ],
)
def test_only_live_bookings_block_time(status: BookingStatus, blocks: bool) -> None:
    assert lifecycle.blocks_time(status, None, NOW) is blocks
    assert lifecycle.status_of(booking(status), NOW) is status


# -- confirm and hold ------------------------------------------------------------------------


def test_a_free_booking_is_confirmed_invited_and_reminded() -> None:
    change = lifecycle.confirm(None, NOW)

    assert change.status is BookingStatus.CONFIRMED
    assert change.sequence == 0
    assert change.announce is MessageKind.INVITATION
    assert change.queues_reminders


def test_a_deposit_booking_is_held_and_announced_to_nobody() -> None:
    change = lifecycle.hold()

    assert change.status is BookingStatus.PENDING_PAYMENT
    assert change.announce is None
    assert not change.queues_reminders


def test_a_paid_hold_is_confirmed_with_its_own_sequence() -> None:
    change = lifecycle.confirm(booking(BookingStatus.PENDING_PAYMENT, sequence=1), NOW)

    assert change.status is BookingStatus.CONFIRMED
    assert change.sequence == 1
    assert change.announce is MessageKind.INVITATION


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (booking(BookingStatus.PENDING_PAYMENT, hold_expires_at=NOW), "A expired booking"),
        (booking(BookingStatus.CANCELLED), "A cancelled booking"),
        (booking(BookingStatus.CONFIRMED), "A confirmed booking"),
    ],
)
def test_only_a_live_hold_can_be_confirmed(state: BookingState, reason: str) -> None:
    with pytest.raises(TooLate, match=reason):
        lifecycle.confirm(state, NOW)


# -- cancel ----------------------------------------------------------------------------------


def test_cancelling_a_confirmed_booking_announces_it_and_drops_its_reminders() -> None:
    change = lifecycle.cancel(booking(sequence=2), NOW)

    assert change is not None
    assert change.status is BookingStatus.CANCELLED
    assert change.sequence == 3
    assert change.announce is MessageKind.CANCELLATION
    assert change.drops_reminders
    assert not change.queues_reminders


def test_cancelling_a_hold_announces_nothing() -> None:
    change = lifecycle.cancel(booking(BookingStatus.PENDING_PAYMENT), NOW)

    assert change is not None
    assert change.status is BookingStatus.CANCELLED
    assert change.announce is None


def test_cancelling_a_cancelled_booking_again_is_no_change() -> None:
    assert lifecycle.cancel(booking(BookingStatus.CANCELLED), NOW) is None


@pytest.mark.parametrize(
    "state",
    [
        booking(BookingStatus.PENDING_PAYMENT, hold_expires_at=NOW - timedelta(seconds=1)),
        booking(BookingStatus.EXPIRED),
        booking(BookingStatus.COMPLETED),
        booking(BookingStatus.NO_SHOW),
    ],
)
def test_a_booking_that_is_no_longer_live_cannot_be_cancelled(state: BookingState) -> None:
    assert lifecycle.cancel_refusal(state, NOW) == "This booking can no longer be cancelled."
    with pytest.raises(TooLate, match="can no longer be cancelled"):
        lifecycle.cancel(state, NOW)


def test_a_booking_can_be_cancelled_until_it_starts_and_not_from_then() -> None:
    assert lifecycle.cancel_refusal(booking(), START - timedelta(seconds=1)) is None
    with pytest.raises(TooLate):
        lifecycle.cancel(booking(), START)


# -- move ------------------------------------------------------------------------------------


def test_moving_a_confirmed_booking_updates_calendars_and_reminders() -> None:
    change = lifecycle.move(booking(sequence=1), CUTOFF_HOURS, NOW)

    assert change.status is BookingStatus.CONFIRMED
    assert change.sequence == 2
    assert change.announce is MessageKind.UPDATE
    assert change.drops_reminders
    assert change.queues_reminders


def test_moving_a_hold_keeps_it_held_and_sends_nothing() -> None:
    change = lifecycle.move(booking(BookingStatus.PENDING_PAYMENT), CUTOFF_HOURS, NOW)

    assert change.status is BookingStatus.PENDING_PAYMENT
    assert change.sequence == 1
    assert change.announce is None
    assert not change.queues_reminders


def test_a_booking_can_be_moved_until_the_cutoff_and_not_after() -> None:
    cutoff = START - timedelta(hours=CUTOFF_HOURS)

    assert lifecycle.move_refusal(booking(), CUTOFF_HOURS, cutoff) is None
    assert lifecycle.move_refusal(booking(), CUTOFF_HOURS, cutoff + timedelta(seconds=1)) == (
        "Bookings can be moved until 24 hours before they start. Please contact the practice."
    )


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (booking(BookingStatus.CANCELLED), "A cancelled booking cannot be moved."),
        (booking(BookingStatus.NO_SHOW), "A no show booking cannot be moved."),
        (
            booking(BookingStatus.PENDING_PAYMENT, hold_expires_at=NOW),
            "A expired booking cannot be moved.",
        ),
    ],
)
def test_a_booking_that_is_no_longer_live_cannot_be_moved(state: BookingState, reason: str) -> None:
    with pytest.raises(TooLate) as refused:
        lifecycle.move(state, CUTOFF_HOURS, NOW)
    assert refused.value.message == reason


# -- after the start -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mark", "outcome"),
    [(lifecycle.complete, BookingStatus.COMPLETED), (lifecycle.no_show, BookingStatus.NO_SHOW)],
)
def test_a_confirmed_consultation_is_marked_once_it_has_started(
    mark: Callable[[BookingState, datetime], Transition], outcome: BookingStatus
) -> None:
    with pytest.raises(TooEarly):
        mark(booking(), START - timedelta(seconds=1))
    change = mark(booking(sequence=1), START)
    assert change.status is outcome
    assert change.sequence == 1
    assert change.announce is None
    assert change.drops_reminders


@pytest.mark.parametrize(
    "state", [booking(BookingStatus.CANCELLED), booking(BookingStatus.PENDING_PAYMENT)]
)
def test_only_a_confirmed_consultation_is_marked(state: BookingState) -> None:
    with pytest.raises(TooLate):
        lifecycle.complete(state, START + timedelta(hours=1))


# -- links -----------------------------------------------------------------------------------


def test_a_manage_link_opens_until_thirty_days_after_the_end() -> None:
    assert lifecycle.manage_link_open(END, END + timedelta(days=30))
    assert not lifecycle.manage_link_open(END, END + timedelta(days=30, seconds=1))


@pytest.mark.parametrize(
    ("state", "at", "opens"),
    [
        (booking(), NOW, True),
        (booking(), START, False),
        (booking(BookingStatus.PENDING_PAYMENT), NOW, True),
        # An overdue hold closes its intake links even before the sweep marks it expired.
        (booking(BookingStatus.PENDING_PAYMENT, hold_expires_at=NOW), NOW, False),
        (booking(BookingStatus.CANCELLED), NOW, False),
    ],
)
def test_intake_links_open_for_a_live_booking_until_it_starts(
    state: BookingState, at: datetime, opens: bool
) -> None:
    assert lifecycle.intake_open(state, at) is opens


# -- obsolete messages -----------------------------------------------------------------------


def message(kind: MessageKind, sequence: int = 0, to: Recipient = Recipient.PARTNER_1) -> Message:
    return Message(kind, to, sequence)


@pytest.mark.parametrize(
    ("sent", "state", "at", "reason"),
    [
        (message(MessageKind.INVITATION), booking(), NOW, None),
        (message(MessageKind.INVITATION), booking(sequence=1), NOW, "superseded by a later change"),
        (
            message(MessageKind.UPDATE, 1),
            booking(BookingStatus.CANCELLED, sequence=2),
            NOW,
            "booking cancelled",
        ),
        (message(MessageKind.REMINDER), booking(), START - timedelta(seconds=1), None),
        (message(MessageKind.REMINDER), booking(), START, "the consultation has started"),
        (
            message(MessageKind.REMINDER),
            booking(BookingStatus.PENDING_PAYMENT),
            NOW,
            "booking pending_payment",
        ),
        (
            message(MessageKind.CANCELLATION, 1),
            booking(BookingStatus.CANCELLED, sequence=1),
            NOW,
            None,
        ),
        (message(MessageKind.CANCELLATION, 1), booking(), NOW, "booking not cancelled"),
        (message(MessageKind.NEW_MANAGE_LINK, 1), booking(manage_generation=1), NOW, None),
        (
            message(MessageKind.NEW_MANAGE_LINK, 1),
            booking(manage_generation=2),
            NOW,
            "superseded by a newer link",
        ),
        (
            message(MessageKind.NEW_MANAGE_LINK, 1),
            booking(manage_generation=1),
            END + timedelta(days=31),
            "the manage link has expired",
        ),
        (
            message(MessageKind.NEW_INTAKE_LINK, 0, Recipient.PARTNER_2),
            booking(),
            START,
            "the intake link no longer opens",
        ),
    ],
)
def test_which_messages_a_later_change_makes_obsolete(
    sent: Message, state: BookingState, at: datetime, reason: str | None
) -> None:
    assert lifecycle.obsolete(sent, state, at) == reason


def test_a_renewed_intake_link_is_superseded_by_a_newer_one() -> None:
    sent = message(MessageKind.NEW_INTAKE_LINK, 1, Recipient.PARTNER_2)

    assert lifecycle.obsolete(sent, booking(), NOW, intake_generation=1) is None
    assert lifecycle.obsolete(sent, booking(), NOW, intake_generation=2) == (
        "superseded by a newer link"
    )


@pytest.mark.parametrize("kind", [MessageKind.SAFETY_ALERT, MessageKind.FLAGGED_CHANGE])
def test_a_notice_to_the_practice_is_never_obsolete(kind: MessageKind) -> None:
    sent = message(kind, 0, Recipient.PRACTICE)

    assert lifecycle.obsolete(sent, booking(BookingStatus.CANCELLED, sequence=3), START) is None


# -- reassign --------------------------------------------------------------------------------


def test_reassigning_a_confirmed_booking_tells_calendars_with_the_next_sequence() -> None:
    # The staff's decision: even inside the couple's reschedule cut-off.
    change = lifecycle.reassign(booking(sequence=2), START - timedelta(hours=1))

    assert change.status is BookingStatus.CONFIRMED
    assert change.sequence == 3
    assert change.announce is MessageKind.REASSIGNED
    assert change.drops_reminders
    assert change.queues_reminders


def test_reassigning_a_hold_sends_nothing() -> None:
    change = lifecycle.reassign(booking(BookingStatus.PENDING_PAYMENT), NOW)

    assert change.status is BookingStatus.PENDING_PAYMENT
    assert change.announce is None


@pytest.mark.parametrize(
    ("state", "now"),
    [
        (booking(BookingStatus.CANCELLED), NOW),
        (booking(BookingStatus.COMPLETED), NOW),
        (booking(), START),
    ],
)
def test_a_finished_or_started_booking_is_not_reassigned(
    state: BookingState, now: datetime
) -> None:
    with pytest.raises(TooLate):
        lifecycle.reassign(state, now)


def test_the_former_therapists_cancel_is_never_obsolete_by_status() -> None:
    message = Message(MessageKind.REASSIGNED, Recipient.FORMER_THERAPIST, 1)

    assert lifecycle.obsolete(message, booking(BookingStatus.CANCELLED, sequence=2), NOW) is None
