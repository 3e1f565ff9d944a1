"""Small factories: each makes one row with sensible defaults and returns its id."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from typing import Any

from booking.bookings.tables import Booking
from booking.scheduling.tables import (
    BusyInterval,
    ConsultationType,
    DateOverride,
    Therapist,
    TherapistOffering,
    TimeOff,
    WeeklyHoursRule,
)

_counter = itertools.count(1)


async def make_type(slug: str = "consult", **fields: Any) -> int:
    values: dict[str, Any] = {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "duration_minutes": 50,
        "slot_interval_minutes": 30,
        "buffer_after_minutes": 10,
        "min_notice_minutes": 0,
        "horizon_days": 60,
        "modes": ["video"],
    }
    values.update(fields)
    (row,) = await ConsultationType.insert(ConsultationType(**values)).returning(
        ConsultationType._meta.primary_key
    )
    return int(row["id"])


async def make_therapist(
    slug: str = "therapist",
    timezone: str = "America/Toronto",
    types: tuple[int, ...] = (),
    hours: tuple[tuple[int, str, str], ...] = (),
    **fields: Any,
) -> int:
    """A therapist offering `types`, working `hours` = ((weekday, "09:00", "17:00"), ...)."""
    values: dict[str, Any] = {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "timezone": timezone,
        "languages": ["English"],
        "modes": ["video"],
        "position": next(_counter),
    }
    values.update(fields)
    (row,) = await Therapist.insert(Therapist(**values)).returning(Therapist._meta.primary_key)
    therapist_id = int(row["id"])
    for type_id in types:
        await TherapistOffering.insert(
            TherapistOffering(therapist=therapist_id, consultation_type=type_id)
        )
    for weekday, start, end in hours:
        await WeeklyHoursRule.insert(
            WeeklyHoursRule(
                therapist=therapist_id,
                weekday=weekday,
                start_time=time.fromisoformat(start),
                end_time=time.fromisoformat(end),
            )
        )
    return therapist_id


async def add_override(therapist_id: int, day: date, hours: tuple[str, str] | None = None) -> None:
    """Closes `day`, or sets its hours to `hours`."""
    if hours is None:
        await DateOverride.insert(DateOverride(therapist=therapist_id, day=day, closed=True))
        return
    await DateOverride.insert(
        DateOverride(
            therapist=therapist_id,
            day=day,
            start_time=time.fromisoformat(hours[0]),
            end_time=time.fromisoformat(hours[1]),
        )
    )


async def add_time_off(therapist_id: int, starts_at: datetime, ends_at: datetime) -> None:
    await TimeOff.insert(TimeOff(therapist=therapist_id, starts_at=starts_at, ends_at=ends_at))


async def add_busy(therapist_id: int, starts_at: datetime, ends_at: datetime) -> None:
    await BusyInterval.insert(
        BusyInterval(therapist=therapist_id, starts_at=starts_at, ends_at=ends_at)
    )


async def add_booking(
    therapist_id: int,
    type_id: int,
    starts_at: datetime,
    minutes: int = 50,
    buffer_minutes: int = 10,
    status: str = "confirmed",
    hold_expires_at: datetime | None = None,
) -> None:
    ends_at = starts_at + timedelta(minutes=minutes)
    await Booking.insert(
        Booking(
            reference=f"T{next(_counter):06d}",
            therapist=therapist_id,
            consultation_type=type_id,
            status=status,
            starts_at=starts_at,
            ends_at=ends_at,
            blocked_until=ends_at + timedelta(minutes=buffer_minutes),
            hold_expires_at=hold_expires_at,
        )
    )


DISTINCTIVE = "Marmalade-Lighthouse-7731"


def couple_answers(**overrides: Any) -> dict[str, Any]:
    """The couple part, every question answered."""
    answers: dict[str, Any] = {
        "time_together": "4_to_10_years",
        "living_together": "yes",
        "children": "living_with_us",
        "previous_couples_therapy": "never",
        "hoped_for_help": "We keep having the same argument about chores.",
        "preferred_format": "video",
        "suitable_times": "Weekday evenings",
    }
    answers.update(overrides)
    return answers


def partner_answers(**overrides: Any) -> dict[str, Any]:
    """A partner's private part, every question answered; safe answers unless overridden."""
    answers: dict[str, Any] = {
        "trust_in_care": 6,
        "communication_satisfaction": 4,
        "turning_toward": "sometimes",
        "habits_to_strengthen": ["listening_fully", "being_present"],
        "trust_strains": ["stress", "money"],
        "hoped_for_change": "We would talk things through calmly.",
        "safe_at_home": "yes",
        "harmed_past_year": "no",
    }
    answers.update(overrides)
    return answers


ALL_CONSENTS = {"purpose": True, "privacy": True, "policy": True, "email": True}


def booking_request(
    start: str, therapist: str = "ana", kind: str = "consult", **overrides: Any
) -> dict[str, Any]:
    """A valid POST /api/v1/bookings body for `start`."""
    body: dict[str, Any] = {
        "consultation_type": kind,
        "therapist": therapist,
        "start": start,
        "partners": [
            {"name": "Robin Park", "email": "robin@example.org"},
            {"name": "Sam Park", "email": "sam@example.org", "pronouns": "they/them"},
        ],
        "intake": {"couple": couple_answers(), "booker": partner_answers()},
        "consents": dict(ALL_CONSENTS),
    }
    body.update(overrides)
    return body
