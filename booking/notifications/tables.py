"""The outbox: every message that leaves the system is first a row here."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.bookings.tables import Booking
from booking.core.logs import current_request_id

# pending -> sent | failed | skipped (superseded by a later change, or no longer relevant)
OUTBOX_STATUSES = ("pending", "sent", "failed", "skipped")


class OutboxMessage(Table, tablename="outbox_messages"):
    booking = ForeignKey(references=Booking, null=False, on_delete=OnDelete.cascade)
    # invitation | update | cancellation | reminder | new_manage_link | new_intake_link
    # | safety_alert | flagged_change
    kind = Varchar(length=20)
    # "partner:1", "partner:2", "therapist" or "practice" (PRACTICE_ALERT_EMAIL)
    recipient = Varchar(length=20)
    # The calendar SEQUENCE the message speaks for (a new link's: the link's generation).
    sequence = Integer(default=0)
    # booking reference, kind, sequence and recipient: one message, whatever happens (a notice
    # to the practice adds a random part: each is an event of its own). Not the API's
    # Idempotency-Key (bookings' IdempotencyKey table): this one is the outbox's own.
    dedupe_key = Varchar(length=120, unique=True)
    status = Varchar(length=10, default="pending")
    due_at = Timestamptz()
    next_attempt_at = Timestamptz()
    # A worker that claims the row owns it until then; past it, the row can be claimed again.
    lease_until = Timestamptz(null=True, default=None)
    # When a relay last claimed the row and handed it to the broker.
    relayed_at = Timestamptz(null=True, default=None)
    attempts = Integer(default=0)
    last_error = Text(default="")
    message_id = Varchar(length=200, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    # The therapist addressed when it is not the booking's own: the one a reassigned booking
    # left (recipient "former_therapist"); null for every other row.
    therapist_id = Integer(null=True, default=None)
    # The id of the request that wrote the row (null outside one: a sweep, the command line),
    # taken when the row is made, whichever writer makes it; the worker names it on the lines
    # of the row's delivery. Never token-shaped (booking.core.logs.acceptable_request_id).
    # (Piccolo's type wants a str from a callable default; None suits this nullable column.)
    request_id = Varchar(length=64, null=True, default=cast(Callable[[], str], current_request_id))
