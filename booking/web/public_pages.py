"""Public pages: the directory, a therapist's page and the times page (HTML)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from booking.core.errors import ServiceError
from booking.core.settings import Settings
from booking.core.timezones import zone_names
from booking.scheduling.schemas import ConsultationTypeOut
from booking.scheduling.services import ANY, AvailabilityService, DirectoryService
from booking.web.paging import SPAN, Page, parse_window, slots_by_day


def books_online(consultation_type: ConsultationTypeOut, takes_payments: bool) -> bool:
    """Whether the pages offer to book `consultation_type`: a free type always, one with a
    deposit when the service takes payments online (Stripe keys set). A price with no
    deposit is paid at the practice, which the pages cannot arrange."""
    if consultation_type.deposit is not None:
        return takes_payments
    return consultation_type.price is None


class PublicPages(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="directory")
    async def directory(self, directory: NamedDependency[DirectoryService]) -> Template:
        return Template(
            "public/directory.html",
            context={
                "therapists": await directory.therapists(),
                "types": await directory.consultation_types(),
            },
        )

    @get("/therapists/{slug:str}", name="therapist")
    async def therapist(
        self, slug: FromPath[str], directory: NamedDependency[DirectoryService]
    ) -> Template:
        therapist = await directory.therapist(slug)
        types = [
            t
            for t in await directory.consultation_types()
            if t.slug in therapist.consultation_types
        ]
        return Template("public/therapist.html", context={"therapist": therapist, "types": types})

    @get("/times", name="times")
    async def times(
        self,
        request: Request[Any, Any, Any],
        directory: NamedDependency[DirectoryService],
        availability: NamedDependency[AvailabilityService],
        settings: NamedDependency[Settings],
        type: FromQuery[str | None] = None,
        therapist: FromQuery[str] = ANY,
        tz: FromQuery[str | None] = None,
        start: FromQuery[str | None] = None,
    ) -> Template:
        types = await directory.consultation_types()
        therapists = await directory.therapists()
        chosen = next((t for t in types if t.slug == type), types[0] if types else None)
        context: dict[str, Any] = {
            "types": types,
            "therapists": therapists,
            "chosen_type": chosen,
            "therapist": therapist or ANY,
            "zones": zone_names(),
            "tz_given": bool(tz),
            "error": None,
            "days": [],
            "page": None,
        }
        if chosen is None:
            return Template("public/times.html", context=context)
        offering = [t for t in therapists if chosen.slug in t.consultation_types]
        context["offering"] = offering
        if therapist != ANY and therapist not in {t.slug for t in offering}:
            therapist = ANY
            context["therapist"] = ANY
        first: date | None = None
        try:
            window = parse_window(start, None, tz, availability.clock())
            first = window.first
            last = first + SPAN - timedelta(days=1) if first else None
            result = await availability.find(chosen.slug, therapist, first, last, window.timezone)
        except ServiceError as exc:
            context["error"] = exc.message
            context["tz"] = tz or settings.practice_timezone
            return Template("public/times.html", context=context, status_code=exc.status_code)
        names = {t.slug: t.name for t in therapists}
        context.update(
            tz=result.timezone.key,
            days=slots_by_day(result, names),
            bookable=books_online(chosen, settings.takes_payments),
            next_slot=result.slots[0] if result.slots else None,
            page=Page.starting(first, availability.clock().astimezone(result.timezone).date()),
        )
        return Template("public/times.html", context=context)
