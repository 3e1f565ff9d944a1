"""The public API: the directory, availability and the intake questionnaire, as JSON."""

from __future__ import annotations

from litestar import Controller, MediaType, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from booking.core.errors import NotFound
from booking.core.timezones import LocalClock
from booking.intake.questionnaire import load_questionnaire
from booking.scheduling.cache import CachedAvailability
from booking.scheduling.schemas import AvailabilityOut, ConsultationTypeOut, SlotOut, TherapistOut
from booking.scheduling.services import ANY, Availability, DirectoryService
from booking.web.openapi import QuestionnaireOut, declares, questionnaire_out
from booking.web.paging import parse_window


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

    @get(summary="Open consultation slots", opt=declares(NotFound))
    async def availability(
        self,
        cached_availability: NamedDependency[CachedAvailability],
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
    ) -> Response[AvailabilityOut]:
        # The body comes encoded from the cache, as `availability_out` of the uncached answer.
        window = parse_window(start, end, tz, cached_availability.service.clock())
        body = await cached_availability.json(
            consultation_type, therapist or ANY, window.first, window.last, window.timezone
        )
        return Response(content=body, media_type=MediaType.JSON)  # type: ignore[arg-type]


class QuestionnaireController(Controller):
    path = "/api/v1/intake"
    tags = ["intake"]

    @get("/questionnaire", summary="The current intake questionnaire")
    async def questionnaire(self) -> QuestionnaireOut:
        return questionnaire_out(load_questionnaire().to_public())
