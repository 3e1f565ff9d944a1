"""The words a booking's state is told in: its status, its payment's, and which message about
it goes to whom.

Each is a `StrEnum`: the value is what the database stores and the API shows, so a member
compares equal to the stored string and goes into a query as it is.
"""

from __future__ import annotations

from enum import StrEnum


class BookingStatus(StrEnum):
    """pending_payment -> confirmed | expired | cancelled; confirmed -> cancelled | completed
    | no_show (booking.bookings.lifecycle says when)."""

    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        """The status in a sentence: "no show", "pending payment"."""
        return self.value.replace("_", " ")


# Statuses that hold their time: a live booking blocks [starts_at, blocked_until).
LIVE_STATUSES: tuple[BookingStatus, ...] = (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED)
# Consultations that never took place: their intake is purged after the retention period;
# confirmed and completed ones keep it.
NEVER_TOOK_PLACE: tuple[BookingStatus, ...] = (
    BookingStatus.CANCELLED,
    BookingStatus.EXPIRED,
    BookingStatus.NO_SHOW,
)


class PaymentStatus(StrEnum):
    """A deposit's payment, as the payment provider reports it."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class MessageKind(StrEnum):
    """What an outbox row says about its booking."""

    INVITATION = "invitation"
    UPDATE = "update"
    CANCELLATION = "cancellation"
    REMINDER = "reminder"
    # The booking moved to another therapist: REQUEST to the couple (the same event, a new
    # SEQUENCE), CANCEL to the therapist it left (recipient FORMER_THERAPIST).
    REASSIGNED = "reassigned"
    # A renewed link, to its holder; the row's sequence is the link's generation.
    NEW_MANAGE_LINK = "new_manage_link"
    NEW_INTAKE_LINK = "new_intake_link"
    # Notices to the practice (PRACTICE_ALERT_EMAIL): each is sent, whatever happened since.
    SAFETY_ALERT = "safety_alert"
    FLAGGED_CHANGE = "flagged_change"
    # Work for the payment provider (recipient PAYMENT_PROVIDER), run by booking.payments.jobs:
    # cancel the PaymentIntent of a hold that lapsed unpaid, or make one refund (the row's
    # dedupe key is the refund's idempotency key).
    CANCEL_PAYMENT = "cancel_payment"
    REFUND = "refund"
    # To the booker: a payment that came after its hold lapsed, or after its time went to
    # someone else, was refunded in full. Sent whatever happened since.
    PAYMENT_REFUNDED = "payment_refunded"
    # An admin refunded the deposit of a booking that stands (the review's refund action).
    DEPOSIT_REFUNDED = "deposit_refunded"

    @property
    def is_link(self) -> bool:
        return self in (MessageKind.NEW_MANAGE_LINK, MessageKind.NEW_INTAKE_LINK)

    @property
    def is_notice(self) -> bool:
        return self in (MessageKind.SAFETY_ALERT, MessageKind.FLAGGED_CHANGE)

    @property
    def is_payment_job(self) -> bool:
        """Work for the payment provider, not an email."""
        return self in (MessageKind.CANCEL_PAYMENT, MessageKind.REFUND)


class Recipient(StrEnum):
    """Who an outbox row is addressed to: a partner by position, the therapist, the practice."""

    PARTNER_1 = "partner:1"
    PARTNER_2 = "partner:2"
    THERAPIST = "therapist"
    # The therapist a reassigned booking left (the outbox row names them: therapist_id).
    FORMER_THERAPIST = "former_therapist"
    PRACTICE = "practice"
    # Not a person: the row is work for the payment provider (MessageKind.is_payment_job).
    PAYMENT_PROVIDER = "payment_provider"

    @classmethod
    def partner(cls, position: int) -> Recipient:
        """The partner at `position` (1, the booker, or 2); ValueError for any other."""
        return cls(f"partner:{position}")

    @property
    def position(self) -> int | None:
        """The partner's position, or None for a therapist and the practice."""
        if self in PARTNERS:
            return int(self.value.removeprefix("partner:"))
        return None


PARTNERS: tuple[Recipient, ...] = (Recipient.PARTNER_1, Recipient.PARTNER_2)
