"""Scheduling rows as typed records: what leaves a query about therapists and consultation
types, each built by one function from the Piccolo row.

A query selects `THERAPIST_COLUMNS` (or every column of a consultation type) and hands its
rows to `from_row`; nothing past that reads a row by key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from booking.scheduling.tables import ConsultationType, Therapist

# What a TherapistRecord holds, for the queries that build one.
THERAPIST_COLUMNS = (
    Therapist._meta.primary_key,
    Therapist.slug,
    Therapist.name,
    Therapist.credentials,
    Therapist.bio,
    Therapist.timezone,
    Therapist.languages,
    Therapist.modes,
    Therapist.accepting_new_couples,
    Therapist.email,
    Therapist.email_invitations,
    Therapist.video_url,
)


@dataclass(frozen=True, slots=True)
class TherapistRecord:
    """A therapist as the directory, availability, bookings and their messages see them (not
    their calendar feed's token)."""

    id: int
    slug: str
    name: str
    credentials: str
    bio: str
    timezone: str
    languages: tuple[str, ...]
    modes: tuple[str, ...]
    accepting_new_couples: bool
    # Empty: the therapist gets no email at all.
    email: str
    email_invitations: bool
    video_url: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TherapistRecord:
        """The record of a `therapists` row selected with THERAPIST_COLUMNS (or all)."""
        return cls(
            id=row["id"],
            slug=row["slug"],
            name=row["name"],
            credentials=row["credentials"],
            bio=row["bio"],
            timezone=row["timezone"],
            languages=tuple(row["languages"]),
            modes=tuple(row["modes"]),
            accepting_new_couples=row["accepting_new_couples"],
            email=row["email"],
            email_invitations=row["email_invitations"],
            video_url=row["video_url"],
        )

    @property
    def wants_invitations(self) -> bool:
        """Whether the therapist is sent the booking's invitations and updates by email."""
        return bool(self.email) and self.email_invitations


@dataclass(frozen=True, slots=True)
class ConsultationTypeRecord:
    """A consultation type: what it is, what it costs and the policy its slots follow."""

    id: int
    slug: str
    name: str
    description: str
    duration_minutes: int
    slot_interval_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int
    daily_cap: int | None
    currency: str
    price_amount: int | None
    deposit_amount: int | None
    refund_window_hours: int
    reschedule_cutoff_hours: int
    payment_hold_minutes: int
    modes: tuple[str, ...]
    active: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ConsultationTypeRecord:
        """The record of a `consultation_types` row selected with all its columns."""
        return cls(
            id=row["id"],
            slug=row["slug"],
            name=row["name"],
            description=row["description"],
            duration_minutes=row["duration_minutes"],
            slot_interval_minutes=row["slot_interval_minutes"],
            buffer_after_minutes=row["buffer_after_minutes"],
            min_notice_minutes=row["min_notice_minutes"],
            horizon_days=row["horizon_days"],
            daily_cap=row["daily_cap"],
            currency=row["currency"],
            price_amount=row["price_amount"],
            deposit_amount=row["deposit_amount"],
            refund_window_hours=row["refund_window_hours"],
            reschedule_cutoff_hours=row["reschedule_cutoff_hours"],
            payment_hold_minutes=row["payment_hold_minutes"],
            modes=tuple(row["modes"]),
            active=row["active"],
        )


async def load_therapist(therapist_id: int) -> TherapistRecord | None:
    """The therapist with this id (active or not), or None."""
    row = (
        await Therapist.select(*THERAPIST_COLUMNS)
        .where(Therapist._meta.primary_key == therapist_id)
        .first()
    )
    return None if row is None else TherapistRecord.from_row(row)


async def load_consultation_type(type_id: int) -> ConsultationTypeRecord | None:
    """The consultation type with this id (active or not), or None."""
    row = (
        await ConsultationType.select().where(ConsultationType._meta.primary_key == type_id).first()
    )
    return None if row is None else ConsultationTypeRecord.from_row(row)
