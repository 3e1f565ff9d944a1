"""A therapist's consultations as the staff side reads them: the coming ones still holding
their time, and those of a window of days with their partners (never their answers)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from booking.bookings.lifecycle import blocks_time, status_of
from booking.bookings.records import (
    BOOKING_COLUMNS,
    PARTNER_COLUMNS,
    BookingRecord,
    PartnerRecord,
)
from booking.bookings.statuses import LIVE_STATUSES, BookingStatus
from booking.bookings.tables import Booking, Partner
from booking.core.db import read_scope


async def live_from(therapist_id: int, now: datetime) -> list[BookingRecord]:
    """The therapist's bookings starting from `now` that keep their time (confirmed, or held
    and not lapsed), by start."""
    rows = await (
        Booking.select(*BOOKING_COLUMNS)
        .where(
            (Booking.therapist == therapist_id)
            & (Booking.starts_at >= now)
            & Booking.status.is_in(list(LIVE_STATUSES))
        )
        .order_by(Booking.starts_at)
    )
    bookings = [BookingRecord.from_row(r) for r in rows]
    return [b for b in bookings if blocks_time(b.status, b.hold_expires_at, now)]


async def consultations_between(
    therapist_id: int, start: datetime, end: datetime, now: datetime
) -> list[tuple[BookingRecord, list[PartnerRecord]]]:
    """The therapist's bookings starting in [start, end) that are, or were, to take place
    (neither cancelled nor expired as of `now`), by start, each with its partners."""
    async with read_scope():
        rows = await (
            Booking.select(*BOOKING_COLUMNS)
            .where(
                (Booking.therapist == therapist_id)
                & (Booking.starts_at >= start)
                & (Booking.starts_at < end)
                & Booking.status.not_in([BookingStatus.CANCELLED, BookingStatus.EXPIRED])
            )
            .order_by(Booking.starts_at)
        )
        bookings = [
            b
            for b in (BookingRecord.from_row(r) for r in rows)
            if status_of(b.state, now) is not BookingStatus.EXPIRED
        ]
        partners: dict[int, list[PartnerRecord]] = defaultdict(list)
        if bookings:
            partner_rows = await (
                Partner.select(*PARTNER_COLUMNS)
                .where(Partner.booking.is_in([b.id for b in bookings]))
                .order_by(Partner.position)
            )
            for row in partner_rows:
                partner = PartnerRecord.from_row(row)
                partners[partner.booking_id].append(partner)
    return [(b, partners[b.id]) for b in bookings]
