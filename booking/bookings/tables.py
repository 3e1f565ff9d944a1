"""Bookings: the consultations couples have booked or are holding."""

from __future__ import annotations

from piccolo.columns import ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.scheduling.tables import ConsultationType, Therapist

# Statuses that hold their time: a live booking blocks [starts_at, blocked_until).
LIVE_STATUSES = ("pending_payment", "confirmed")


class Booking(Table, tablename="bookings"):
    reference = Varchar(length=20, unique=True)
    therapist = ForeignKey(references=Therapist, null=False, on_delete=OnDelete.restrict)
    consultation_type = ForeignKey(
        references=ConsultationType, null=False, on_delete=OnDelete.restrict
    )
    status = Varchar(length=20)
    mode = Varchar(length=20, default="")
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    # The end of the time this booking keeps the therapist busy: its end plus its buffer.
    blocked_until = Timestamptz()
    hold_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
