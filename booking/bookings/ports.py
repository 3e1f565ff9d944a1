"""What bookings need from the domains above them, as interfaces those domains implement.

Bookings imports neither intake nor notifications: the intake checks a booking request's
answers and keeps the booker's version (`IntakeScreen`, `IntakeRecords`, implemented in
booking.intake.screen), the outbox queues what a change sends (`Announcer`, implemented in
booking.notifications.announcer) and the calendar file comes from notifications too
(`CalendarFiles`), and the payments domain says and does what a cancellation means for a
deposit (`Deposits`, implemented in booking.payments.refunds). The application assembles
them (booking.web.app.create_app, booking.cli).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from booking.bookings.schemas import PaymentSummary
from booking.bookings.statuses import MessageKind, Recipient
from booking.core.errors import FieldError
from booking.scheduling.schemas import Money


@dataclass(frozen=True, slots=True)
class ScreenedIntake:
    """A booking request's intake, checked: what is stored, and whether it raises a flag."""

    couple_answers: dict[str, object]
    booker_answers: dict[str, object]
    consents: dict[str, str]
    # Derived from the booker's private answers; never shown to them.
    booker_safety_flag: bool
    questionnaire_version: str


class IntakeScreen(Protocol):
    def screen(
        self,
        couple: Mapping[str, Any],
        booker: Mapping[str, Any],
        consents: Mapping[str, Any],
    ) -> tuple[ScreenedIntake, list[FieldError]]:
        """The intake checked against the current questionnaire and consent texts, and every
        problem found (field paths `intake.couple.*`, `intake.booker.*`, `consents.*`)."""
        ...


class IntakeRecords(Protocol):
    async def add_booker_version(
        self,
        *,
        booking_id: int,
        partner_id: int,
        reference: str,
        intake: ScreenedIntake,
        now: datetime,
    ) -> None:
        """Keep the booker's answers as their first version (in the booking's transaction)."""
        ...

    async def booker_flagged_at_booking(self, booking_id: int) -> bool:
        """Whether the booker's own answers at booking raised the safety flag."""
        ...


class Announcer(Protocol):
    """Queues a booking's messages in the caller's transaction (the outbox)."""

    async def announce(
        self,
        booking_id: int,
        reference: str,
        kind: MessageKind,
        sequence: int,
        recipients: Iterable[Recipient],
        now: datetime,
    ) -> None:
        """One message of `kind` for `sequence` to each recipient."""
        ...

    async def notify_practice(
        self, booking_id: int, reference: str, kind: MessageKind, sequence: int, now: datetime
    ) -> None:
        """One notice to the practice; each call is an event of its own."""
        ...

    async def tell_former_therapist(
        self, booking_id: int, reference: str, sequence: int, therapist_id: int, now: datetime
    ) -> None:
        """The CANCEL of `sequence` to therapist `therapist_id`, whom the booking left."""
        ...

    async def remind(
        self,
        booking_id: int,
        reference: str,
        sequence: int,
        starts_at: datetime,
        before: timedelta | None,
        now: datetime,
    ) -> None:
        """Reminders to both partners `before` the start (none if off, or already past)."""
        ...

    async def drop_reminders(self, booking_id: int) -> None:
        """The booking's pending reminders are never sent."""
        ...


class CalendarFiles(Protocol):
    async def booking_file(self, booking_id: int) -> bytes:
        """The booking's event as an .ics file (METHOD:PUBLISH), as it stands now."""
        ...


class PaymentRecords(Protocol):
    """A booking's deposit as the manage view shows it (implemented in booking.payments)."""

    async def summary(self, booking_id: int) -> PaymentSummary | None:
        """The deposit's status and amounts; None for a booking without one."""
        ...


class Deposits(Protocol):
    """What a booking's deposit becomes when the booking is cancelled (the refund policy)."""

    async def refund_on_cancel(self, booking_id: int, now: datetime) -> Money | None:
        """What cancelling at `now` would give back; None when nothing would be."""
        ...

    async def cancelled(self, booking_id: int, reference: str, now: datetime) -> Money | None:
        """In the cancellation's transaction: queue the refund the policy gives, once; returns
        it, or None when the deposit is kept (or there is none)."""
        ...

    async def cancellation_refund(self, booking_id: int) -> Money | None:
        """The refund an earlier cancellation decided on, if any (cancelling again says it)."""
        ...
