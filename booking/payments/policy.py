"""The refund policy as pure functions: when cancelling still refunds the deposit, and how much.

A consultation type's refund window is `refund_window_hours` before the start (product.md:
48 hours by default). Cancelling at or before that moment refunds the deposit in full;
after it, the deposit is kept, as the couple agreed when they paid.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def refund_deadline(starts_at: datetime, refund_window_hours: int) -> datetime:
    """The last moment a cancellation refunds the deposit."""
    return starts_at - timedelta(hours=refund_window_hours)


def refund_on_cancel(
    paid: int, refunded: int, starts_at: datetime, refund_window_hours: int, now: datetime
) -> int | None:
    """The amount (minor units) cancelling at `now` gives back: what was paid and not yet
    refunded, inside the window; None outside it or when nothing is left to give back."""
    remaining = paid - refunded
    if remaining <= 0 or now > refund_deadline(starts_at, refund_window_hours):
        return None
    return remaining
