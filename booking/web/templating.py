"""Filters and globals for the Jinja2 pages: money, dates and times as people read them."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from booking.bookings.statuses import BookingStatus
from booking.core.settings import Settings
from booking.intake.consents import Support
from booking.scheduling.wording import clock, long_date, mode_label, money


def configure(environment: Environment, settings: Settings, support: Support) -> None:
    """The pages' globals (the practice's name; the crisis lines every page's footer lists, from
    SUPPORT_RESOURCES_FILE or the shipped defaults; the booking statuses, so pages compare a
    status against its members, never against a spelled string) and filters."""
    environment.globals.update(
        practice_name=settings.practice_name,
        crisis_lines=support.resources,
        BookingStatus=BookingStatus,
    )
    filters: dict[str, Any] = {
        "money": money,
        "long_date": long_date,
        "clock": clock,
        "mode_label": mode_label,
    }
    environment.filters.update(filters)
