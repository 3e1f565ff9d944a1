"""The manage pages both partners reach by link: see the booking, cancel it, move it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from booking.bookings.manage import BookingManagement
from booking.bookings.schemas import BookingView, SupportOut
from booking.bookings.statuses import BookingStatus
from booking.core.errors import NotFound, SlotUnavailable, TooLate, ValidationFailed
from booking.core.timezones import zone
from booking.scheduling.services import AvailabilityService, DirectoryService
from booking.web.booking_pages import (
    NOTE_SHARED_INBOX,
    NOTE_SUPPORT,
    NOTES_COOKIE,
    SHARED_INBOX_WARNING,
)
from booking.web.clients import client_address
from booking.web.forms import FormState, first, form_values
from booking.web.paging import Page, parse_window, slots_by_day

DONE_MESSAGES = {
    "cancelled": "The consultation is cancelled.",
    "rescheduled": "The consultation has moved to its new time.",
}
STATUS_LABELS = {
    BookingStatus.CONFIRMED: "Confirmed",
    BookingStatus.PENDING_PAYMENT: "Waiting for the deposit",
    BookingStatus.CANCELLED: "Cancelled",
    BookingStatus.EXPIRED: "Expired: the deposit was not paid in time",
    BookingStatus.COMPLETED: "Took place",
    BookingStatus.NO_SHOW: "Missed",
}


class ManagePages(Controller):
    """`/manage/<token>`: the booking as both partners see it; cancel or move it."""

    path = "/manage/{token:str}"
    include_in_schema = False

    @get("/", name="manage")
    async def view(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        management: NamedDependency[BookingManagement],
        directory: NamedDependency[DirectoryService],
        booker_support: NamedDependency[SupportOut],
        booked: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Template:
        notes: set[str] = set()
        cookies: list[Cookie] | None = None
        if booked and NOTES_COOKIE in request.cookies:
            notes = set(request.cookies[NOTES_COOKIE].split("."))
            # Shown once: a reload, or the partner's copy of the link, shows the plain page.
            here = request.app.route_reverse("manage", token=token)
            cookies = [Cookie(key=NOTES_COOKIE, value="", path=here, max_age=0)]
        return await self._page(
            token,
            management,
            directory,
            cookies=cookies,
            booked=bool(booked),
            message=DONE_MESSAGES.get(done or ""),
            support=booker_support if NOTE_SUPPORT in notes else None,
            shared_inbox=NOTE_SHARED_INBOX in notes,
        )

    @post("/cancel", status_code=303, name="manage-cancel")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        management: NamedDependency[BookingManagement],
        directory: NamedDependency[DirectoryService],
    ) -> Response[Any]:
        values = await form_values(request)
        reason = first(values, "reason").strip() or None
        try:
            await management.cancel(token, reason, client_address(request))
        except ValidationFailed as exc:
            form = FormState.failed(values, exc.fields, {"reason": "Reason"})
            return await self._page(token, management, directory, form=form, status=422)
        except TooLate as exc:
            return await self._page(token, management, directory, error=exc.message, status=409)
        return Redirect(
            request.app.route_reverse("manage", token=token),
            query_params={"done": "cancelled"},
            status_code=303,
        )

    @get("/reschedule", name="reschedule")
    async def other_times(
        self,
        token: FromPath[str],
        management: NamedDependency[BookingManagement],
        directory: NamedDependency[DirectoryService],
        availability: NamedDependency[AvailabilityService],
        start: FromQuery[str | None] = None,
    ) -> Template:
        return await _reschedule_page(token, management, directory, availability, start)

    @post("/reschedule", status_code=303)
    async def reschedule(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        management: NamedDependency[BookingManagement],
        directory: NamedDependency[DirectoryService],
        availability: NamedDependency[AvailabilityService],
    ) -> Response[Any]:
        values = await form_values(request)
        try:
            await management.reschedule(token, first(values, "start"), client_address(request))
        except (TooLate, SlotUnavailable, ValidationFailed) as exc:
            return await _reschedule_page(
                token, management, directory, availability, None, exc.message, exc.status_code
            )
        return Redirect(
            request.app.route_reverse("manage", token=token),
            query_params={"done": "rescheduled"},
            status_code=303,
        )

    async def _page(
        self,
        token: str,
        management: BookingManagement,
        directory: DirectoryService,
        *,
        status: int = 200,
        form: FormState | None = None,
        cookies: list[Cookie] | None = None,
        **context: Any,
    ) -> Template:
        view = await management.view(token)
        return Template(
            "public/manage.html",
            context={
                **await booking_context(view, directory),
                "token": token,
                "form": form or FormState(),
                "booked": False,
                "message": None,
                "error": None,
                "support": None,
                "shared_inbox": False,
                "shared_inbox_warning": SHARED_INBOX_WARNING,
                **context,
            },
            status_code=status,
            cookies=cookies,
        )


async def booking_context(view: BookingView, directory: DirectoryService) -> dict[str, Any]:
    tz = zone(view.timezone)
    try:
        therapist_name = (await directory.therapist(view.therapist)).name
    except NotFound:
        therapist_name = view.therapist.replace("-", " ").title()
    try:
        type_name = (await directory.consultation_type(view.consultation_type)).name
    except NotFound:
        type_name = view.consultation_type.replace("-", " ").capitalize()
    return {
        "view": view,
        "tz": tz.key,
        "start": datetime.fromisoformat(view.start).astimezone(tz),
        "end": datetime.fromisoformat(view.end).astimezone(tz),
        "therapist_name": therapist_name,
        "type_name": type_name,
        "status_label": STATUS_LABELS[view.status],
    }


async def _reschedule_page(
    token: str,
    management: BookingManagement,
    directory: DirectoryService,
    availability: AvailabilityService,
    start: str | None,
    error: str | None = None,
    status: int = 200,
) -> Template:
    """Open times with the same therapist for the same consultation, in the booking's zone."""
    view = await management.view(token)
    context = await booking_context(view, directory)
    tz = zone(view.timezone)
    now = availability.clock()
    days: list[Any] = []
    page: Page | None = None
    if view.can_reschedule:
        window = parse_window(start, None, view.timezone, now)
        result = await management.reschedule_options(token, window.first, tz)
        page = Page.starting(window.first, now.astimezone(tz).date())
        days = slots_by_day(result, {view.therapist: context["therapist_name"]})
    return Template(
        "public/reschedule.html",
        context={**context, "token": token, "error": error, "days": days, "page": page},
        status_code=status,
    )
