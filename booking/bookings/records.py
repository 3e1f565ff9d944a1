"""Booking rows as typed records: a booking and its partners as they leave a query, each built
by one function from the Piccolo row.

Neither holds intake answers, a cancel reason or a token's hash: a query selects
`BOOKING_COLUMNS` / `PARTNER_COLUMNS`, so what is private never travels with a record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking.bookings.lifecycle import BookingState
from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking, Partner

# What a BookingRecord holds, for the queries that build one.
BOOKING_COLUMNS = (
    Booking._meta.primary_key,
    Booking.reference,
    Booking.therapist,
    Booking.consultation_type,
    Booking.status,
    Booking.mode,
    Booking.starts_at,
    Booking.ends_at,
    Booking.blocked_until,
    Booking.hold_expires_at,
    Booking.manage_generation,
    Booking.sequence,
    Booking.safety_flag,
    Booking.viewer_timezone,
)

# What a PartnerRecord holds, for the queries that build one.
PARTNER_COLUMNS = (
    Partner._meta.primary_key,
    Partner.booking,
    Partner.position,
    Partner.name,
    Partner.email,
    Partner.phone,
    Partner.intake_generation,
    Partner.intake_completed_at,
)


@dataclass(frozen=True, slots=True)
class BookingRecord:
    """A booking: who, when, how, and where it stands (never its answers)."""

    id: int
    reference: str
    therapist_id: int
    consultation_type_id: int
    # As stored: booking.bookings.lifecycle tells what it is at a moment.
    status: BookingStatus
    mode: str
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime
    hold_expires_at: datetime | None
    manage_generation: int
    # The calendar SEQUENCE: 0 at booking, +1 at every move and at cancellation.
    sequence: int
    safety_flag: bool
    # The zone the booker booked in; empty: the therapist's.
    viewer_timezone: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> BookingRecord:
        """The record of a `bookings` row selected with BOOKING_COLUMNS (or more)."""
        return cls(
            id=row["id"],
            reference=row["reference"],
            therapist_id=row["therapist"],
            consultation_type_id=row["consultation_type"],
            status=BookingStatus(row["status"]),
            mode=row["mode"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            blocked_until=row["blocked_until"],
            hold_expires_at=row["hold_expires_at"],
            manage_generation=row["manage_generation"],
            sequence=row["sequence"],
            safety_flag=row["safety_flag"],
            viewer_timezone=row["viewer_timezone"],
        )

    @property
    def state(self) -> BookingState:
        """What the lifecycle reads of the booking."""
        return BookingState(
            status=self.status,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            hold_expires_at=self.hold_expires_at,
            sequence=self.sequence,
            manage_generation=self.manage_generation,
        )


@dataclass(frozen=True, slots=True)
class PartnerRecord:
    """One of a booking's two partners (position 1 booked), without their answers."""

    id: int
    booking_id: int
    position: int
    name: str
    email: str
    phone: str
    # The generation of their intake link (a renewed link raises it).
    intake_generation: int
    intake_completed_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PartnerRecord:
        """The record of a `booking_partners` row selected with PARTNER_COLUMNS (or more)."""
        return cls(
            id=row["id"],
            booking_id=row["booking"],
            position=row["position"],
            name=row["name"],
            email=row["email"],
            phone=row["phone"],
            intake_generation=row["intake_generation"],
            intake_completed_at=row["intake_completed_at"],
        )


async def load_booking(booking_id: int) -> BookingRecord | None:
    """The booking with this id, or None."""
    row = (
        await Booking.select(*BOOKING_COLUMNS)
        .where(Booking._meta.primary_key == booking_id)
        .first()
    )
    return None if row is None else BookingRecord.from_row(row)


async def load_partners(booking_id: int) -> list[PartnerRecord]:
    """The booking's partners by position (two, unless a row was removed by hand)."""
    rows = await (
        Partner.select(*PARTNER_COLUMNS)
        .where(Partner.booking == booking_id)
        .order_by(Partner.position)
    )
    return [PartnerRecord.from_row(r) for r in rows]
