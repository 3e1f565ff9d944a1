"""The deposit's refund policy in words: until when cancelling gives the deposit back."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from booking.scheduling.wording import clock, long_date


def refund_deadline(starts_at: datetime, refund_window_hours: int) -> datetime:
    """The last moment a cancellation refunds the deposit in full."""
    return starts_at - timedelta(hours=refund_window_hours)


def refund_sentence(starts_at: datetime, refund_window_hours: int, tz: ZoneInfo) -> str:
    """ "Cancel by Thursday 4 December, 3:00 p.m. for a full refund." in the couple's zone."""
    deadline = refund_deadline(starts_at, refund_window_hours).astimezone(tz)
    day = long_date(deadline.date()).rsplit(" ", 1)[0]  # without the year: it is near
    return f"Cancel by {day}, {clock(deadline)} for a full refund of the deposit."
