"""The deposit's refund policy: until when cancelling gives the deposit back, how much, and
how the couple read it.

A consultation type's refund window is `refund_window_hours` before the start (product.md:
48 hours by default). Cancelling at or before that moment refunds the deposit in full; after
it, the deposit is kept, as the couple agreed when they paid.
"""

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


def refund_on_cancel(
    paid: int, refunded: int, starts_at: datetime, refund_window_hours: int, now: datetime
) -> int | None:
    """The amount (minor units) cancelling at `now` gives back: what was paid and not yet
    refunded, inside the window; None outside it or when nothing is left to give back."""
    remaining = paid - refunded
    if remaining <= 0 or now > refund_deadline(starts_at, refund_window_hours):
        return None
    return remaining
