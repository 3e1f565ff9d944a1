"""The workspace's other pages: the home (`/staff`), one consultation
(`/staff/bookings/{reference}`, marked completed or missed by POST; an admin is shown the
review's page of it), and the calendar feed
(`/staff/feed`, a new URL, invitation emails on or off).

Thin: parse, call one service, render. What a person may not reach is the services' 404.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from booking.bookings.outcomes import Outcome
from booking.core.errors import TooEarly, TooLate
from booking.staff.consultation import ConsultationPage
from booking.staff.feed import WorkspaceFeed
from booking.staff.home import WorkspaceHome
from booking.staff.principal import StaffPrincipal
from booking.staff.review import BookingReview
from booking.web.forms import first, form_values
from booking.web.review_pages import review_page
from booking.web.workspace import acting, chosen, page_context, with_therapist

MARKED = {
    "completed": "Marked as having taken place.",
    "no_show": "Marked as missed.",
}
FEED_SAVED = {
    "rotated": "Your calendar has a new address. Subscribe to it again; the old one no "
    "longer works.",
    "on": "Invitation emails are on: each new or changed consultation also comes by email.",
    "off": "Invitation emails are off: your consultations come only through the calendar feed.",
}


class WorkspacePages(Controller):
    """`/staff`, `/staff/bookings/{reference}`, `/staff/feed`."""

    include_in_schema = False

    @get("/", name="staff-home")
    async def home(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        workspace_home: NamedDependency[WorkspaceHome],
        therapist: FromQuery[str | None] = None,
    ) -> Template:
        home = await workspace_home.consultations(
            principal, chosen(principal, therapist), acting(request, principal)
        )
        return Template(
            template_name="staff/home.html",
            context=await page_context(principal, home.therapist.slug, home=home),
        )

    @get("/bookings/{reference:str}", name="staff-booking")
    async def booking(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        consultation_page: NamedDependency[ConsultationPage],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
        marked: FromQuery[str | None] = None,
    ) -> Template:
        if principal.is_admin:
            # The admin's page: the same consultation, read (and audited) by the review, with
            # its tools (booking.web.review_pages).
            return await review_page(
                request, principal, booking_review, reference, message=MARKED.get(marked or "")
            )
        return await _consultation(
            request, principal, consultation_page, reference, message=MARKED.get(marked or "")
        )

    @post("/bookings/{reference:str}/complete", status_code=303)
    async def complete(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        consultation_page: NamedDependency[ConsultationPage],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Response[Any]:
        return await _mark(
            request, principal, consultation_page, booking_review, reference, Outcome.COMPLETED
        )

    @post("/bookings/{reference:str}/no-show", status_code=303)
    async def no_show(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        consultation_page: NamedDependency[ConsultationPage],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Response[Any]:
        return await _mark(
            request, principal, consultation_page, booking_review, reference, Outcome.NO_SHOW
        )

    @get("/feed", name="staff-feed")
    async def feed(
        self,
        principal: NamedDependency[StaffPrincipal],
        workspace_feed: NamedDependency[WorkspaceFeed],
        therapist: FromQuery[str | None] = None,
        saved: FromQuery[str | None] = None,
    ) -> Template:
        facts = await workspace_feed.facts(principal, chosen(principal, therapist))
        return Template(
            template_name="staff/feed.html",
            context=await page_context(
                principal, facts.therapist.slug, facts=facts, saved=FEED_SAVED.get(saved or "")
            ),
        )

    @post("/feed/rotate", status_code=303)
    async def rotate(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        workspace_feed: NamedDependency[WorkspaceFeed],
    ) -> Redirect:
        values = await form_values(request)
        facts = await workspace_feed.rotate(
            principal, chosen(principal, first(values, "therapist")), acting(request, principal)
        )
        return Redirect(
            with_therapist("/staff/feed", principal, facts.therapist.slug, saved="rotated"),
            status_code=303,
        )

    @post("/feed/invitations", status_code=303)
    async def invitations(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        workspace_feed: NamedDependency[WorkspaceFeed],
    ) -> Redirect:
        values = await form_values(request)
        on = first(values, "invitations") == "on"
        facts = await workspace_feed.set_invitations(
            principal,
            chosen(principal, first(values, "therapist")),
            on,
            acting(request, principal),
        )
        return Redirect(
            with_therapist(
                "/staff/feed", principal, facts.therapist.slug, saved="on" if on else "off"
            ),
            status_code=303,
        )


async def _consultation(
    request: Request[Any, Any, Any],
    principal: StaffPrincipal,
    consultation_page: ConsultationPage,
    reference: str,
    *,
    message: str | None = None,
    refusal: str | None = None,
    status: int = 200,
) -> Template:
    view = await consultation_page.view(principal, reference, acting(request, principal))
    return Template(
        template_name="staff/booking.html",
        context=await page_context(
            principal, view.therapist_slug, view=view, message=message, refusal=refusal
        ),
        status_code=status,
    )


async def _mark(
    request: Request[Any, Any, Any],
    principal: StaffPrincipal,
    consultation_page: ConsultationPage,
    booking_review: BookingReview,
    reference: str,
    outcome: Outcome,
) -> Response[Any]:
    try:
        await consultation_page.mark(principal, reference, outcome, acting(request, principal))
    except (TooEarly, TooLate) as refused:
        if principal.is_admin:
            return await review_page(
                request,
                principal,
                booking_review,
                reference,
                refusal=refused.message,
                status=refused.status_code,
            )
        return await _consultation(
            request,
            principal,
            consultation_page,
            reference,
            refusal=refused.message,
            status=refused.status_code,
        )
    path = request.app.route_reverse("staff-booking", reference=reference)
    return Redirect(f"{path}?marked={outcome.value}", status_code=303)
