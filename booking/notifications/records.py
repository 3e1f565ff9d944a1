"""Outbox rows as typed records, each built by one function from the Piccolo row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking.bookings.lifecycle import Message
from booking.bookings.statuses import MessageKind, Recipient


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One queued message: what it is, to whom, and where its delivery stands."""

    id: int
    booking_id: int
    kind: MessageKind
    recipient: Recipient
    # The calendar SEQUENCE it speaks for (a new link's: the link's generation).
    sequence: int
    # Its Message-ID is derived from it: a message sent twice is recognised as one.
    dedupe_key: str
    # pending | sent | skipped | failed
    status: str
    attempts: int
    # The lease as read: the ticket a delivery takes the row with (outbox.take_for_delivery).
    lease_until: datetime | None
    # The therapist addressed when not the booking's own (Recipient.FORMER_THERAPIST).
    therapist_id: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> OutboxRecord:
        """The record of an `outbox_messages` row selected with all its columns."""
        return cls(
            id=row["id"],
            booking_id=row["booking"],
            kind=MessageKind(row["kind"]),
            recipient=Recipient(row["recipient"]),
            sequence=row["sequence"],
            dedupe_key=row["dedupe_key"],
            status=row["status"],
            attempts=row["attempts"],
            lease_until=row["lease_until"],
            therapist_id=row.get("therapist_id"),
        )

    @property
    def message(self) -> Message:
        """What the lifecycle reads of it."""
        return Message(self.kind, self.recipient, self.sequence)


@dataclass(frozen=True, slots=True)
class FailedMessage:
    """A message that gave up, as the operator is shown it (`booking outbox failed`)."""

    id: int
    reference: str
    kind: str
    recipient: str
    sequence: int
    attempts: int
    last_error: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FailedMessage:
        return cls(
            id=row["id"],
            reference=row["reference"],
            kind=row["kind"],
            recipient=row["recipient"],
            sequence=row["sequence"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=row["created_at"],
        )
