"""A fictional practice to explore the service with: `booking demo` (idempotent)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from booking.core.timezones import zone
from booking.scheduling.tables import (
    ConsultationType,
    DateOverride,
    Therapist,
    TherapistOffering,
    TimeOff,
    WeeklyHoursRule,
)

MON, TUE, WED, THU, FRI, SAT = range(6)

TYPES: list[dict[str, Any]] = [
    {
        "slug": "intro-call",
        "name": "Free 15-minute phone call",
        "description": "A short call to ask questions and see whether we are the right practice "
        "for you. No preparation needed.",
        "duration_minutes": 15,
        "slot_interval_minutes": 15,
        "buffer_after_minutes": 5,
        "min_notice_minutes": 4 * 60,
        "horizon_days": 30,
        "daily_cap": 4,
        "modes": ["phone"],
        "position": 1,
    },
    {
        "slug": "couples-consultation",
        "name": "Couples consultation",
        "description": "A 50-minute first meeting with both partners to talk about what brings you "
        "here and whether couples therapy with us is a good fit.",
        "duration_minutes": 50,
        "price_amount": 15000,
        "deposit_amount": 5000,
        "modes": ["in_person", "video", "phone"],
        "position": 2,
    },
]

THERAPISTS: list[dict[str, Any]] = [
    {
        "slug": "amara-okafor",
        "name": "Amara Okafor",
        "credentials": "Registered Psychotherapist (RP), MA",
        "bio": "Amara works with couples who feel stuck in the same argument, or far apart after "
        "a hard season. Her sessions are practical and warm, and focus on how partners reach "
        "for each other day to day.",
        "timezone": "America/Toronto",
        "languages": ["English", "French"],
        "modes": ["in_person", "video", "phone"],
        "types": ["intro-call", "couples-consultation"],
        "email": "amara.okafor@harbour-counselling.example",
        "video_url": "https://video.harbour-counselling.example/amara-okafor",
        "weekly": [(d, time(9), time(12)) for d in (MON, TUE, WED, THU)]
        + [(d, time(13), time(17)) for d in (MON, TUE, WED, THU)]
        + [(FRI, time(9), time(13))],
    },
    {
        "slug": "daniel-reyes",
        "name": "Daniel Reyes",
        "credentials": "Registered Psychotherapist (Qualifying), MSW",
        "bio": "Daniel meets couples online from Vancouver, including partners who live apart or "
        "keep different hours. He has a particular interest in rebuilding trust after a breach.",
        "timezone": "America/Vancouver",
        "languages": ["English", "Spanish"],
        "modes": ["video", "phone"],
        "types": ["intro-call", "couples-consultation"],
        "email": "daniel.reyes@harbour-counselling.example",
        "video_url": "https://video.harbour-counselling.example/daniel-reyes",
        "weekly": [(d, time(10), time(18)) for d in (TUE, WED, THU, FRI)]
        + [(SAT, time(9), time(13))],
    },
    {
        "slug": "priya-sharma",
        "name": "Priya Sharma",
        "credentials": "Registered Psychotherapist (RP), PhD",
        "bio": "Priya helps couples slow down difficult conversations so that both partners feel "
        "heard. She offers evening times for couples who work during the day.",
        "timezone": "America/Toronto",
        "languages": ["English", "Hindi", "Punjabi"],
        "modes": ["in_person", "video"],
        "types": ["couples-consultation"],
        "email": "priya.sharma@harbour-counselling.example",
        # Priya follows her calendar feed instead of invitation emails.
        "email_invitations": False,
        "video_url": "https://video.harbour-counselling.example/priya-sharma",
        "weekly": [(d, time(12), time(20)) for d in (MON, WED)] + [(SAT, time(9), time(13))],
    },
]


async def seed_demo(today: date) -> list[str]:
    """Create the demo practice where it is missing; returns what was created.

    Existing rows (matched by slug) are left as they are, so running it again changes nothing
    and never undoes an edit. Date overrides and time off are placed relative to `today`.
    """
    created: list[str] = []
    type_ids: dict[str, int] = {}
    for spec in TYPES:
        row = (
            await ConsultationType.select(ConsultationType._meta.primary_key)
            .where(ConsultationType.slug == spec["slug"])
            .first()
        )
        if row is None:
            (row,) = await ConsultationType.insert(ConsultationType(**spec)).returning(
                ConsultationType._meta.primary_key
            )
            created.append(f"consultation type {spec['slug']}")
        type_ids[spec["slug"]] = row["id"]

    for position, spec in enumerate(THERAPISTS):
        if await Therapist.exists().where(Therapist.slug == spec["slug"]):
            continue
        fields = {k: v for k, v in spec.items() if k not in ("types", "weekly")}
        (row,) = await Therapist.insert(Therapist(**fields, position=position)).returning(
            Therapist._meta.primary_key
        )
        therapist_id = row["id"]
        await TherapistOffering.insert(
            *[
                TherapistOffering(therapist=therapist_id, consultation_type=type_ids[slug])
                for slug in spec["types"]
            ]
        )
        await WeeklyHoursRule.insert(
            *[
                WeeklyHoursRule(therapist=therapist_id, weekday=d, start_time=a, end_time=b)
                for d, a, b in spec["weekly"]
            ]
        )
        await _seed_exceptions(spec["slug"], therapist_id, today)
        created.append(f"therapist {spec['slug']}")
    return created


async def _seed_exceptions(slug: str, therapist_id: int, today: date) -> None:
    """One date override and one time-off period per therapist, in the coming weeks."""
    tz = zone(next(t["timezone"] for t in THERAPISTS if t["slug"] == slug))
    index = [t["slug"] for t in THERAPISTS].index(slug)
    # A closed working day, then a Sunday opened for the afternoon.
    closed_day = _next_weekday(today + timedelta(days=8 + index), THERAPISTS[index]["weekly"][0][0])
    sunday = _next_weekday(today + timedelta(days=14), 6)
    await DateOverride.insert(
        DateOverride(therapist=therapist_id, day=closed_day, closed=True),
        DateOverride(therapist=therapist_id, day=sunday, start_time=time(13), end_time=time(16)),
    )
    away = today + timedelta(days=21 + 3 * index)
    await TimeOff.insert(
        TimeOff(
            therapist=therapist_id,
            starts_at=datetime.combine(away, time(0), tz),
            ends_at=datetime.combine(away + timedelta(days=3), time(0), tz),
        )
    )


def _next_weekday(start: date, weekday: int) -> date:
    return start + timedelta(days=(weekday - start.weekday()) % 7)
