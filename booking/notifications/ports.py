"""What delivery needs from the payments domain above it, as interfaces payments implements
(booking.payments.jobs); the worker assembles them (booking.worker)."""

from __future__ import annotations

from typing import Protocol

from booking.notifications.records import OutboxRecord


class PaymentWork(Protocol):
    async def run(self, row: OutboxRecord) -> str:
        """Do the payment provider's work of outbox row `row` (a refund, a cancellation),
        idempotently; returns what was done, for the row. Raises DeliveryError to retry (or,
        permanent, to give up: the row then shows in `booking outbox failed`)."""
        ...


class DepositOutcomes(Protocol):
    async def outcome(self, booking_id: int, kind: str) -> str | None:
        """What an email of `kind` about the booking says of its deposit, in one or two plain
        sentences (an amount and what happens to it); None when there is nothing to say."""
        ...
