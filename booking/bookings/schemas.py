"""Shapes of the bookings API (msgspec structs, published in the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from msgspec import Struct

from booking.bookings.statuses import BookingStatus, PaymentStatus
from booking.scheduling.schemas import Money


class PartnerIn(Struct, forbid_unknown_fields=True):
    name: str
    email: str
    phone: str | None = None
    pronouns: str | None = None


class IntakeIn(Struct, forbid_unknown_fields=True):
    """The couple part (answered once, by the booker) and the booker's own private part."""

    couple: dict[str, Any]
    booker: dict[str, Any]


class BookingIn(Struct, forbid_unknown_fields=True):
    consultation_type: str
    therapist: str
    start: str
    partners: list[PartnerIn]
    intake: IntakeIn
    consents: dict[str, Any]
    mode: str | None = None
    # The zone the booker chose to see times in; used to show them their booking.
    timezone: str | None = None


class SupportResource(Struct, frozen=True):
    name: str
    contact: str


class SupportOut(Struct, frozen=True):
    message: str
    resources: list[SupportResource]


class PaymentOut(Struct, frozen=True):
    """What a new hold's answer says about paying it: where, how much, until when."""

    publishable_key: str
    amount: Money
    expires_at: str
    pay_url: str


class PaymentSummary(Struct, frozen=True):
    """A booking's deposit as the manage API shows it."""

    status: PaymentStatus
    amount: Money
    refunded: Money


class BookingCreated(Struct, frozen=True):
    reference: str
    status: BookingStatus
    start: str
    end: str
    therapist: str
    consultation_type: str
    mode: str
    manage_url: str
    payment: PaymentOut | None
    support: SupportOut | None
    hold_expires_at: str | None = None


class PartnerStatus(Struct, frozen=True):
    name: str
    intake_complete: bool


class BookingView(Struct, frozen=True):
    reference: str
    status: BookingStatus
    start: str
    end: str
    therapist: str
    consultation_type: str
    mode: str
    partners: list[PartnerStatus]
    can_cancel: bool
    can_reschedule: bool
    refund_on_cancel: Money | None
    timezone: str
    hold_expires_at: str | None = None
    payment: PaymentSummary | None = None


class CancelIn(Struct, forbid_unknown_fields=True):
    reason: str | None = None


class Cancelled(Struct, frozen=True):
    status: BookingStatus
    refund: Money | None


class RescheduleIn(Struct, forbid_unknown_fields=True):
    start: str


class PartnerIntakeView(Struct, frozen=True):
    reference: str
    partner: dict[str, str]
    questionnaire: dict[str, Any]
    complete: bool
    consents: list[dict[str, str]]


class PartnerIntakeIn(Struct, forbid_unknown_fields=True):
    answers: dict[str, Any]
    consents: dict[str, Any]


class PartnerIntakeDone(Struct, frozen=True):
    complete: bool
    support: SupportOut | None
