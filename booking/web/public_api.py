"""Scheduling endpoints: the directory and availability, as JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from booking.core.errors import FieldError, ValidationFailed
from booking.core.timezones import LocalClock, parse_zone, scheduling_dates
from booking.scheduling.schemas import AvailabilityOut, ConsultationTypeOut, SlotOut, TherapistOut
from booking.scheduling.services import ANY, Availability, AvailabilityService, DirectoryService


@dataclass(frozen=True, slots=True)
class WindowQuery:
    first: date | None
    last: date | None
    timezone: ZoneInfo | None


def parse_window(start: str | None, end: str | None, tz: str | None, now: datetime) -> WindowQuery:
    """The availability window's query values, every malformed or out-of-range one (dates
    beyond SCHEDULING_REACH of `now`) named in a single 422."""
    problems: list[FieldError] = []
    allowed = scheduling_dates(now)

    def parse(value: str | None, field: str) -> date | None:
        if not value:
            return None
        try:
            day = date.fromisoformat(value) if len(value) == 10 else None
        except ValueError:
            day = None
        if day is None:
            problems.append(FieldError(field, "Give the date in the form YYYY-MM-DD."))
        elif day not in allowed:
            problems.append(FieldError(field, allowed.message))
            return None
        return day

    first, last = parse(start, "start"), parse(end, "end")
    timezone = None
    if tz:
        try:
            timezone = parse_zone(tz)
        except ValidationFailed as exc:
            problems.extend(exc.fields)
    if problems:
        message = problems[0].message if len(problems) == 1 else "Some values are not valid."
        raise ValidationFailed(message, problems)
    return WindowQuery(first, last, timezone)


def availability_out(result: Availability) -> AvailabilityOut:
    local = LocalClock(result.timezone)
    return AvailabilityOut(
        timezone=result.timezone.key,
        slots=[
            SlotOut(
                start=local.isoformat(s.start), end=local.isoformat(s.end), therapist=s.therapist
            )
            for s in result.slots
        ],
    )


class DirectoryController(Controller):
    path = "/api/v1"
    tags = ["directory"]

    @get("/therapists", summary="Therapists in the directory")
    async def therapists(self, directory: NamedDependency[DirectoryService]) -> list[TherapistOut]:
        return await directory.therapists()

    @get("/therapists/{slug:str}", summary="One therapist")
    async def therapist(
        self, slug: FromPath[str], directory: NamedDependency[DirectoryService]
    ) -> TherapistOut:
        return await directory.therapist(slug)

    @get("/consultation-types", summary="Consultation types and their policies")
    async def consultation_types(
        self, directory: NamedDependency[DirectoryService]
    ) -> list[ConsultationTypeOut]:
        return await directory.consultation_types()


class AvailabilityController(Controller):
    path = "/api/v1/availability"
    tags = ["availability"]

    @get(summary="Open consultation slots")
    async def availability(
        self,
        availability: NamedDependency[AvailabilityService],
        consultation_type: str = Parameter(description="Consultation type slug (required)"),
        therapist: str = Parameter(default=ANY, description="Therapist slug, or 'any'"),
        start: str | None = Parameter(
            default=None, description="First date (YYYY-MM-DD), default today in tz"
        ),
        end: str | None = Parameter(
            default=None, description="Last date (inclusive), default start + 13 days"
        ),
        tz: str | None = Parameter(
            default=None,
            description="IANA zone for dates and times; default the therapist's (any: practice)",
        ),
    ) -> AvailabilityOut:
        window = parse_window(start, end, tz, availability.clock())
        result = await availability.find(
            consultation_type, therapist or ANY, window.first, window.last, window.timezone
        )
        return availability_out(result)
