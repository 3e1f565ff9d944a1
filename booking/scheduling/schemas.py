"""Shapes of the scheduling API (msgspec structs, published in the OpenAPI document)."""

from __future__ import annotations

from msgspec import Struct


class Money(Struct, frozen=True):
    """An amount in minor units (cents) of a lower-case ISO 4217 currency."""

    amount: int
    currency: str


class TherapistOut(Struct, frozen=True):
    slug: str
    name: str
    credentials: str
    bio: str
    timezone: str
    languages: list[str]
    modes: list[str]
    consultation_types: list[str]
    accepting_new_couples: bool


class PolicyOut(Struct, frozen=True):
    """The rules the server enforces for a consultation type."""

    buffer_after_minutes: int
    slot_interval_minutes: int
    min_notice_minutes: int
    horizon_days: int
    daily_cap: int | None
    refund_window_hours: int
    reschedule_cutoff_hours: int
    payment_hold_minutes: int


class ConsultationTypeOut(Struct, frozen=True):
    slug: str
    name: str
    description: str
    duration_minutes: int
    modes: list[str]
    price: Money | None
    deposit: Money | None
    policy: PolicyOut


class SlotOut(Struct, frozen=True):
    start: str
    end: str
    therapist: str


class AvailabilityOut(Struct, frozen=True):
    timezone: str
    slots: list[SlotOut]
