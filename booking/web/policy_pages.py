"""The admin's pages for what couples see of the practice (staff.md, "People and policies"):
therapists' public profiles (`/staff/profiles`) and consultation types with every policy of
product.md (`/staff/policies`). Admins only (anyone else: 404).

Thin: parse the form, call `PolicyService`, render. A form with problems comes back (422)
with every value as typed and each problem beside its field; a saved one redirects (303) to
the list, and the public directory, pages and availability read the change from the next
request on.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from booking.core.errors import ValidationFailed
from booking.scheduling.records import ConsultationTypeRecord, TherapistRecord
from booking.scheduling.wording import CURRENCY_SYMBOLS, MODE_LABELS
from booking.staff.access import Origin
from booking.staff.policies import PolicyService, ProfileChange, type_change_from_text
from booking.staff.principal import StaffPrincipal
from booking.web.forms import FormState, FormValues, first, form_values
from booking.web.staff_auth import admin_only
from booking.web.workspace import acting

PROFILE_LABELS = {
    "name": "Name",
    "credentials": "Credentials",
    "bio": "Short biography",
    "languages": "Languages",
    "modes": "Meets couples",
    "timezone": "Time zone",
    "accepting_new_couples": "Taking new couples",
}
TYPE_LABELS = {
    "name": "Name",
    "description": "Description",
    "duration_minutes": "Duration (minutes)",
    "slot_interval_minutes": "Starts every (minutes)",
    "buffer_after_minutes": "Buffer after (minutes)",
    "min_notice_minutes": "Minimum notice (minutes)",
    "horizon_days": "Booking horizon (days)",
    "daily_cap": "Daily cap per therapist",
    "currency": "Currency",
    "price_amount": "Price",
    "deposit_amount": "Deposit",
    "refund_window_hours": "Refund window (hours before the start)",
    "reschedule_cutoff_hours": "Reschedule cut-off (hours before the start)",
    "payment_hold_minutes": "Payment hold (minutes)",
    "modes": "Modes offered",
    "active": "Offered to couples",
}
SAVED = {
    "profile": "The profile is saved. The public directory shows it now.",
    "type": "The consultation type is saved. Couples see the new policy now.",
}


def origin_of(request: Request[Any, Any, Any], principal: StaffPrincipal) -> Origin:
    who = acting(request, principal)
    return Origin(who.client, who.agent)


def profile_values(therapist: TherapistRecord) -> FormValues:
    return {
        "name": [therapist.name],
        "credentials": [therapist.credentials],
        "bio": [therapist.bio],
        "languages": [", ".join(therapist.languages)],
        "modes": list(therapist.modes),
        "timezone": [therapist.timezone],
        "accepting_new_couples": ["1"] if therapist.accepting_new_couples else [],
    }


def _amount(cents: int | None) -> str:
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def type_values(kind: ConsultationTypeRecord) -> FormValues:
    values: FormValues = {
        name: [str(getattr(kind, name))]
        for name in TYPE_LABELS
        if name not in ("modes", "active", "daily_cap", "price_amount", "deposit_amount")
    }
    values["daily_cap"] = [str(kind.daily_cap) if kind.daily_cap is not None else ""]
    values["price_amount"] = [_amount(kind.price_amount)]
    values["deposit_amount"] = [_amount(kind.deposit_amount)]
    values["modes"] = list(kind.modes)
    values["active"] = ["1"] if kind.active else []
    return values


class PolicyPages(Controller):
    """Profiles and consultation types: lists, edit forms, saves."""

    guards = [admin_only]
    include_in_schema = False

    # -- therapists' public profiles ---------------------------------------------------------

    @get("/profiles", name="staff-profiles")
    async def profiles(
        self,
        principal: NamedDependency[StaffPrincipal],
        policies: NamedDependency[PolicyService],
        saved: FromQuery[str | None] = None,
    ) -> Template:
        return Template(
            template_name="staff/people/profiles.html",
            context={
                "principal": principal,
                "therapists": await policies.therapists(principal),
                "saved": SAVED.get(saved or ""),
            },
        )

    @get("/profiles/{slug:str}", name="staff-profile")
    async def profile(
        self,
        principal: NamedDependency[StaffPrincipal],
        policies: NamedDependency[PolicyService],
        slug: FromPath[str],
    ) -> Template:
        therapist = await policies.therapist(principal, slug)
        return _profile_form(principal, therapist, FormState(profile_values(therapist)))

    @post("/profiles/{slug:str}", status_code=303)
    async def save_profile(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        policies: NamedDependency[PolicyService],
        slug: FromPath[str],
    ) -> Response[Any]:
        values = await form_values(request)
        change = ProfileChange(
            name=first(values, "name"),
            credentials=first(values, "credentials"),
            bio=first(values, "bio"),
            languages=tuple(w for w in first(values, "languages").split(",") if w.strip()),
            modes=tuple(values.get("modes", [])),
            timezone=first(values, "timezone"),
            accepting_new_couples=first(values, "accepting_new_couples") == "1",
        )
        try:
            await policies.update_profile(principal, slug, change, origin_of(request, principal))
        except ValidationFailed as problems:
            therapist = await policies.therapist(principal, slug)
            form = FormState.failed(values, problems.fields, PROFILE_LABELS)
            return _profile_form(principal, therapist, form, status=422)
        return Redirect("/staff/profiles?saved=profile", status_code=303)

    # -- consultation types and their policies -----------------------------------------------

    @get("/policies", name="staff-policies")
    async def types(
        self,
        principal: NamedDependency[StaffPrincipal],
        policies: NamedDependency[PolicyService],
        saved: FromQuery[str | None] = None,
    ) -> Template:
        return Template(
            template_name="staff/people/policies.html",
            context={
                "principal": principal,
                "types": await policies.types(principal),
                "saved": SAVED.get(saved or ""),
            },
        )

    @get("/policies/{slug:str}", name="staff-policy")
    async def consultation_type(
        self,
        principal: NamedDependency[StaffPrincipal],
        policies: NamedDependency[PolicyService],
        slug: FromPath[str],
    ) -> Template:
        kind = await policies.consultation_type(principal, slug)
        return _type_form(principal, kind, FormState(type_values(kind)))

    @post("/policies/{slug:str}", status_code=303)
    async def save_type(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        policies: NamedDependency[PolicyService],
        slug: FromPath[str],
    ) -> Response[Any]:
        values = await form_values(request)
        change, problems = type_change_from_text(values)
        try:
            await policies.update_type(
                principal, slug, change, origin_of(request, principal), problems
            )
        except ValidationFailed as refused:
            kind = await policies.consultation_type(principal, slug)
            form = FormState.failed(values, refused.fields, TYPE_LABELS)
            return _type_form(principal, kind, form, status=422)
        return Redirect("/staff/policies?saved=type", status_code=303)


def _profile_form(
    principal: StaffPrincipal, therapist: TherapistRecord, form: FormState, *, status: int = 200
) -> Template:
    return Template(
        template_name="staff/people/profile.html",
        context={
            "principal": principal,
            "therapist": therapist,
            "form": form,
            "modes": MODE_LABELS,
        },
        status_code=status,
    )


def _type_form(
    principal: StaffPrincipal, kind: ConsultationTypeRecord, form: FormState, *, status: int = 200
) -> Template:
    return Template(
        template_name="staff/people/policy.html",
        context={
            "principal": principal,
            "kind": kind,
            "form": form,
            "modes": MODE_LABELS,
            "currencies": list(CURRENCY_SYMBOLS),
        },
        status_code=status,
    )
