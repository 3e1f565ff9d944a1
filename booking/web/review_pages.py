"""The admin's review pages (staff.md, "The admin's review"): the queue (`/staff/intakes`),
the admin's tools on a couple's page (`/staff/bookings/{reference}`, shown by the workspace's
handler, which hands an admin to `review_page`), the export and the erasure, and the audit
log (`/staff/audit`).

Every route here is admin-only (`admin_only`: anyone else gets the 404 of nothing). Thin:
parse, call one review service, render; each read is audited by the service that reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from booking.core.errors import (
    FieldError,
    NotFound,
    NothingToRefund,
    SlotUnavailable,
    TooEarly,
    TooLate,
    ValidationFailed,
)
from booking.core.timezones import zone
from booking.staff.access import Origin
from booking.staff.accounts import staff_names
from booking.staff.admin_view import consultation_of
from booking.staff.audit_log import AuditLog
from booking.staff.erase import EraseService
from booking.staff.export import ExportService
from booking.staff.notes import NoteService
from booking.staff.principal import StaffPrincipal
from booking.staff.queue import REVIEW_LABELS, ReviewQueue, ReviewStatus
from booking.staff.reach import booking_in_reach, therapists_in_reach
from booking.staff.review import BookingReview
from booking.web.forms import FormState, first, form_values
from booking.web.paging import slots_by_day
from booking.web.review_forms import (
    AUDIT_LABELS,
    ERASE_LABELS,
    FILTERS,
    NOTE_LABELS,
    QUEUE_LABELS,
    audit_filters,
    parse_instant,
    problems_of,
    queue_filters,
)
from booking.web.staff_auth import admin_only, staff_auth
from booking.web.workspace import page_context

# What the page says after each of its actions (the `done` query value of its redirect).
DONE = {
    "status": "The review status is changed.",
    "note": "The note is kept. Only the practice's staff read it.",
    "reassigned": "The booking is with its new therapist. The couple and both therapists are "
    "sent updated invitations.",
    "intake-link-1": "The first partner is sent a new intake link; the old one no longer works.",
    "intake-link-2": "The second partner is sent a new intake link; the old one no longer works.",
    "manage-link": "Both partners are sent a new manage link; the old one no longer works.",
    "safety": "The safety follow-up is marked as done.",
    "no-flag": "No safety follow-up was raised for this couple.",
    "cancelled": "The consultation is cancelled for the practice. The couple and the therapist "
    "are told.",
    "refunded": "The refund is queued: it is made at Stripe within moments, and the person who "
    "paid is told by email.",
}


def origin(request: Request[Any, Any, Any]) -> Origin:
    """Where the admin's request came from, as the audit rows keep it."""
    client = staff_auth(request).client(request)
    return Origin(client.address, client.agent)


@dataclass(frozen=True, slots=True)
class ReassignOffer:
    """A therapist who is not free at the booking's time, and the times they are."""

    therapist: str
    name: str
    days: list[tuple[date, list[Any]]]


class ReviewPages(Controller):
    """The admin-only pages and actions of the review."""

    include_in_schema = False
    guards = [admin_only]

    @get("/intakes", name="staff-intakes")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        review_queue: NamedDependency[ReviewQueue],
    ) -> Template:
        values = {k: [v] for k, v in request.query_params.items() if isinstance(v, str)}
        therapists = await therapists_in_reach(principal)
        context: dict[str, Any] = {
            "form": FormState(values),
            "statuses": list(ReviewStatus),
            "labels": REVIEW_LABELS,
            "therapists": therapists,
            "tz": zone(review_queue.practice_timezone),
            "queue": None,
        }
        try:
            filters, page = queue_filters(values)
            result = await review_queue.page(principal, filters, page, origin=origin(request))
        except ValidationFailed as exc:
            context["form"] = FormState.failed(values, problems_of(exc), QUEUE_LABELS)
            return Template(
                template_name="staff/review/queue.html",
                context=await page_context(principal, "", **context),
                status_code=422,
            )
        kept = {k: v[0] for k, v in values.items() if k in FILTERS and v and v[0]}
        context["queue"] = result
        context["page_link"] = lambda n: "/staff/intakes?" + urlencode({**kept, "page": n})
        context["status_link"] = lambda s: (
            "/staff/intakes?"
            + urlencode(
                {**{k: v for k, v in kept.items() if k != "status"}, **({"status": s} if s else {})}
            )
        )
        return Template(
            template_name="staff/review/queue.html",
            context=await page_context(principal, "", **context),
        )

    @post("/bookings/{reference:str}/status", status_code=303)
    async def status(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        review_queue: NamedDependency[ReviewQueue],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Response[Any]:
        values = await form_values(request)
        try:
            wanted = ReviewStatus(first(values, "status"))
        except ValueError:
            return await review_page(
                request,
                principal,
                booking_review,
                reference,
                refusal="Choose one of the review statuses.",
                status=422,
            )
        await review_queue.set_status(principal, reference, wanted, origin(request))
        return _done(reference, "status")

    @post("/bookings/{reference:str}/notes", status_code=303)
    async def note(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        review_notes: NamedDependency[NoteService],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Response[Any]:
        values = await form_values(request)
        try:
            await review_notes.add(principal, reference, first(values, "text"), origin(request))
        except ValidationFailed as exc:
            form = FormState.failed(values, problems_of(exc), NOTE_LABELS)
            return await review_page(
                request, principal, booking_review, reference, note_form=form, status=422
            )
        return _done(reference, "note")

    @post("/bookings/{reference:str}/reassign", status_code=303)
    async def reassign(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Response[Any]:
        values = await form_values(request)
        therapist = first(values, "therapist").strip()
        start: datetime | None = None
        try:
            if not therapist:
                raise ValidationFailed.on("therapist", "Choose the therapist to give it to.")
            if first(values, "start"):
                start = parse_instant(first(values, "start"))
            await booking_review.reassign(principal, reference, therapist, start, origin(request))
        except SlotUnavailable as busy:
            return await review_page(
                request,
                principal,
                booking_review,
                reference,
                refusal=busy.message,
                offer=await _offer(principal, booking_review, reference, therapist),
                status=busy.status_code,
            )
        except (ValidationFailed, TooLate) as refused:
            return await review_page(
                request,
                principal,
                booking_review,
                reference,
                refusal=refused.message,
                status=refused.status_code,
            )
        return _done(reference, "reassigned")

    @post("/bookings/{reference:str}/intake-link", status_code=303)
    async def intake_link(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Response[Any]:
        values = await form_values(request)
        partner = first(values, "partner")
        if partner not in ("1", "2"):
            return await review_page(
                request,
                principal,
                booking_review,
                reference,
                refusal="Choose the partner to send the link to.",
                status=422,
            )
        await booking_review.fresh_intake_link(principal, reference, int(partner), origin(request))
        return _done(reference, f"intake-link-{partner}")

    @post("/bookings/{reference:str}/manage-link", status_code=303)
    async def manage_link(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Response[Any]:
        await booking_review.revoke_manage_link(principal, reference, origin(request))
        return _done(reference, "manage-link")

    @post("/bookings/{reference:str}/safety", status_code=303)
    async def safety(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Response[Any]:
        resolved = await booking_review.resolve_safety_flag(principal, reference, origin(request))
        return _done(reference, "safety" if resolved else "no-flag")

    @post("/bookings/{reference:str}/cancel", status_code=303)
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Response[Any]:
        try:
            await booking_review.cancel(principal, reference, origin(request))
        except (TooLate, ValidationFailed) as refused:
            return await review_page(
                request,
                principal,
                booking_review,
                reference,
                refusal=refused.message,
                status=refused.status_code,
            )
        return _done(reference, "cancelled")

    @get("/bookings/{reference:str}/refund", name="staff-refund")
    async def refund_form(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Template:
        """The confirmation step: the amount a refund would give back, and the button."""
        deposit = await booking_review.deposit(principal, reference)
        if deposit is None or deposit.refundable is None:
            return await review_page(
                request,
                principal,
                booking_review,
                reference,
                refusal="This booking has no deposit left to refund.",
                status=NothingToRefund.status_code,
            )
        return Template(
            template_name="staff/review/refund.html",
            context=await page_context(
                principal, "", reference=reference.strip().upper(), deposit=deposit
            ),
        )

    @post("/bookings/{reference:str}/refund", status_code=303)
    async def refund(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        booking_review: NamedDependency[BookingReview],
        reference: FromPath[str],
    ) -> Response[Any]:
        values = await form_values(request)
        confirmed = first(values, "amount").strip()
        try:
            if not confirmed.isdigit():
                raise ValidationFailed.on("amount", "Confirm the amount to refund.")
            await booking_review.refund_deposit(
                principal, reference, int(confirmed), origin(request)
            )
        except (NothingToRefund, ValidationFailed) as refused:
            return await review_page(
                request,
                principal,
                booking_review,
                reference,
                refusal=refused.message,
                status=refused.status_code,
            )
        return _done(reference, "refunded")

    @get("/bookings/{reference:str}/export.json", name="staff-export")
    async def export(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        review_export: NamedDependency[ExportService],
        reference: FromPath[str],
    ) -> Response[bytes]:
        body = await review_export.export_json(principal, reference, origin(request))
        name = "".join(c for c in reference.upper() if c.isalnum() or c == "-")
        return Response(
            body,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="booking-{name}.json"',
                "Cache-Control": "no-store, private",
            },
        )

    @get("/bookings/{reference:str}/erase", name="staff-erase")
    async def erase_form(
        self,
        principal: NamedDependency[StaffPrincipal],
        reference: FromPath[str],
    ) -> Template:
        # A plain read of the booking's existence (no intake data): a form for nothing is 404.
        await booking_in_reach(principal, reference)
        return await _erase_page(principal, reference)

    @post("/bookings/{reference:str}/erase", status_code=200)
    async def erase(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        review_erase: NamedDependency[EraseService],
        reference: FromPath[str],
    ) -> Template:
        values = await form_values(request)
        try:
            erased = await review_erase.erase(
                principal, reference, first(values, "confirm"), origin(request)
            )
        except ValidationFailed as exc:
            form = FormState.failed(values, problems_of(exc), ERASE_LABELS)
            return await _erase_page(principal, reference, form=form, status=422)
        except TooEarly as early:
            form = FormState.failed(values, [FieldError("confirm", early.message)], ERASE_LABELS)
            return await _erase_page(principal, reference, form=form, status=early.status_code)
        return Template(
            template_name="staff/review/erased.html",
            context=await page_context(principal, "", erased=erased),
        )

    @get("/audit", name="staff-audit")
    async def audit(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        audit_log: NamedDependency[AuditLog],
        before: FromQuery[int | None] = None,
    ) -> Template:
        values = {
            k: [v] for k, v in request.query_params.items() if isinstance(v, str) and k != "before"
        }
        context: dict[str, Any] = {"form": FormState(values), "log": None}
        try:
            filters = await audit_filters(values)
            result = await audit_log.page(principal, filters, before)
        except ValidationFailed as exc:
            context["form"] = FormState.failed(values, problems_of(exc), AUDIT_LABELS)
            return Template(
                template_name="staff/review/audit.html",
                context=await page_context(principal, "", **context),
                status_code=422,
            )
        kept = {k: v[0] for k, v in values.items() if k in AUDIT_LABELS and v and v[0]}
        context["log"] = result
        context["people"] = await staff_names()
        context["tz"] = zone(audit_log.practice_timezone)
        context["first_link"] = "/staff/audit" + (f"?{urlencode(kept)}" if kept else "")
        if result.next_before is not None:
            context["next_link"] = "/staff/audit?" + urlencode(
                {**kept, "before": result.next_before}
            )
        return Template(
            template_name="staff/review/audit.html",
            context=await page_context(principal, "", **context),
        )


async def review_page(
    request: Request[Any, Any, Any],
    principal: StaffPrincipal,
    review: BookingReview,
    reference: str,
    *,
    message: str | None = None,
    refusal: str | None = None,
    note_form: FormState | None = None,
    offer: ReassignOffer | None = None,
    status: int = 200,
) -> Template:
    """The couple's page as an admin sees it: the consultation page, then the review's tools.
    Opening it is the review's audited read (one row per record read)."""
    page = await review.open(principal, reference, origin(request))
    view = await consultation_of(principal, page.case, review.clock())
    # Active therapists come first; the reassignment decides whether one can take it.
    others = [t for t in await therapists_in_reach(principal) if t.slug != view.therapist_slug]
    done = request.query_params.get("done")
    return Template(
        template_name="staff/review/booking.html",
        context=await page_context(
            principal,
            view.therapist_slug,
            view=view,
            case=page.case,
            history=page.history,
            deposit=page.deposit,
            status_changes=page.status_changes,
            statuses=list(ReviewStatus),
            labels=REVIEW_LABELS,
            others=others,
            offer=offer,
            note_form=note_form or FormState(),
            message=message or DONE.get(done or ""),
            refusal=refusal,
            people=await staff_names(),
        ),
        status_code=status,
    )


async def _offer(
    principal: StaffPrincipal, review: BookingReview, reference: str, therapist: str
) -> ReassignOffer | None:
    """The times `therapist` could take the booking instead (None if there is nothing to say)."""
    try:
        options = await review.reassignment_options(principal, reference, therapist)
    except (NotFound, ValidationFailed):
        return None
    chosen = next((t for t in await therapists_in_reach(principal) if t.slug == therapist), None)
    name = chosen.name if chosen else therapist
    return ReassignOffer(therapist, name, slots_by_day(options, {therapist: name}))


async def _erase_page(
    principal: StaffPrincipal, reference: str, *, form: FormState | None = None, status: int = 200
) -> Template:
    return Template(
        template_name="staff/review/erase.html",
        context=await page_context(
            principal, "", reference=reference.strip().upper(), form=form or FormState()
        ),
        status_code=status,
    )


def _done(reference: str, what: str) -> Redirect:
    return Redirect(f"/staff/bookings/{reference.strip().upper()}?done={what}", status_code=303)
