"""Filters and globals for the Jinja2 pages: money, dates and times as people read them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jinja2 import Environment

from booking.bookings.statuses import BookingStatus
from booking.core.settings import Settings
from booking.scheduling.schemas import Money

MODE_LABELS = {"in_person": "in person", "video": "by video", "phone": "by phone"}
CURRENCY_SYMBOLS = {"cad": "$", "usd": "$", "eur": "€", "gbp": "£"}


def money(value: Money) -> str:
    """5000 cad -> '$50.00 CAD' (minor units to major, symbol and code)."""
    symbol = CURRENCY_SYMBOLS.get(value.currency, "")
    return f"{symbol}{value.amount // 100:,}.{value.amount % 100:02d} {value.currency.upper()}"


def long_date(value: date) -> str:
    """'Tuesday 1 December 2026'."""
    return f"{value:%A} {value.day} {value:%B %Y}"


def clock(value: datetime) -> str:
    """'9:30 a.m.' in the datetime's own zone."""
    hour = value.hour % 12 or 12
    suffix = "a.m." if value.hour < 12 else "p.m."
    return f"{hour}:{value.minute:02d} {suffix}"


def mode_label(mode: str) -> str:
    return MODE_LABELS.get(mode, mode)


def configure(environment: Environment, settings: Settings) -> None:
    # Pages compare a booking's status against its members, never against a spelled string.
    environment.globals.update(practice_name=settings.practice_name, BookingStatus=BookingStatus)
    filters: dict[str, Any] = {
        "money": money,
        "long_date": long_date,
        "clock": clock,
        "mode_label": mode_label,
    }
    environment.filters.update(filters)
