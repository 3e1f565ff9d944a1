"""The staff side's own tables: the review's internal notes."""

from __future__ import annotations

from piccolo.columns import ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.bookings.tables import Booking


class ReviewNote(Table, tablename="review_notes"):
    """An internal note on a booking: for the practice only, never shown to the couple."""

    booking = ForeignKey(references=Booking, null=False, on_delete=OnDelete.cascade)
    # The audit label of who wrote it ("staff:7").
    author = Varchar(length=120, default="")
    # The text, encrypted with the intake keyring (booking.staff.notes.note_context).
    body = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
