"""The booking form (HTML) for a time chosen on the times page, on the same service as the API."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from booking.bookings.create import BookingCreation
from booking.bookings.schemas import BookingIn, IntakeIn, PartnerIn
from booking.bookings.validation import parse_instant
from booking.core.errors import BookingLimitReached, FieldError, SlotUnavailable, ValidationFailed
from booking.core.timezones import parse_zone, zone
from booking.intake.questionnaire import COUPLE, EACH_PARTNER, load_questionnaire
from booking.scheduling.schemas import ConsultationTypeOut, TherapistOut
from booking.scheduling.services import ANY, DirectoryService
from booking.web.bookings_api import checked_idempotency_key
from booking.web.clients import client_address
from booking.web.forms import (
    FormState,
    FormValues,
    answers_from_form,
    consent_labels,
    consents,
    consents_from_form,
    first,
    form_values,
    question_labels,
)
from booking.web.http_errors import ERROR_BACK
from booking.web.public_pages import books_online

PARTNER_FIELDS = ("name", "email", "phone", "pronouns")
WHO = ("Your", "Your partner's")
# Notes for the confirmation, carried by a short-lived cookie rather than the URL so that
# browser history and a forwarded manage link never say the booker's answers raised a flag.
NOTES_COOKIE = "booking_notes"
NOTE_SUPPORT = "support"
NOTE_SHARED_INBOX = "shared_inbox"
SHARED_INBOX_WARNING = (
    "A private link sent to a shared inbox is not private; "
    "consider a personal address for your partner."
)
ALREADY_SENT = (
    "This form was already sent and made a booking: its confirmation is at the address you were "
    "shown then. To book another time, start again from the times."
)


@dataclass(frozen=True, slots=True)
class ChosenSlot:
    """The time picked on the times page, checked enough to show it back."""

    consultation_type: ConsultationTypeOut
    therapist: TherapistOut
    start: datetime  # in `tz`
    end: datetime
    tz: ZoneInfo

    @property
    def modes(self) -> list[str]:
        """The ways this therapist can hold this consultation (the booker picks one)."""
        offered = self.consultation_type.modes
        return [m for m in offered if m in self.therapist.modes] or list(offered)

    @property
    def times_query(self) -> dict[str, str]:
        """The times page's query that shows this slot among its neighbours."""
        return {
            "type": self.consultation_type.slug,
            "therapist": self.therapist.slug,
            "tz": self.tz.key,
        }


async def choose_slot(
    directory: DirectoryService,
    type_slug: str | None,
    therapist_slug: str | None,
    start: str | None,
    tz: str | None,
    now: datetime,
    takes_payments: bool = False,
) -> ChosenSlot:
    """The slot named by the times page's link, as of `now`; a 404 or 422 naming what is
    wrong."""
    if not type_slug or not therapist_slug or therapist_slug == ANY or not start:
        raise ValidationFailed.on(
            "start", "Choose a consultation time on the times page first, then book it here."
        )
    consultation_type = await directory.consultation_type(type_slug)
    if not books_online(consultation_type, takes_payments):
        raise ValidationFailed.on(
            "type",
            f"The {consultation_type.name.lower()} is paid for in advance, and online payment "
            "is not available at the moment, so it cannot be booked here. Please contact the "
            "practice to book it.",
        )
    therapist = await directory.therapist(therapist_slug)
    if (
        consultation_type.slug not in therapist.consultation_types
        or not therapist.accepting_new_couples
    ):
        raise ValidationFailed.on(
            "therapist", f"{therapist.name} does not take bookings for this consultation."
        )
    viewer = parse_zone(tz, "tz") if tz else zone(therapist.timezone)
    instant = parse_instant(start, "start", now).astimezone(viewer)
    return ChosenSlot(
        consultation_type,
        therapist,
        instant,
        instant + timedelta(minutes=consultation_type.duration_minutes),
        viewer,
    )


def booking_labels(modes: list[str]) -> dict[str, str]:
    """Field name -> label for every field the booking form shows."""
    questionnaire = load_questionnaire()
    labels = {
        **question_labels(questionnaire.questions_for(COUPLE), "intake.couple"),
        **question_labels(questionnaire.questions_for(EACH_PARTNER), "intake.booker"),
        **consent_labels(),
    }
    for index, who in enumerate(WHO):
        for name in PARTNER_FIELDS:
            labels[f"partners[{index}].{name}"] = f"{who} {name}"
    if len(modes) > 1:
        labels["mode"] = "How you would like to meet"
    return labels


def booking_from_form(values: FormValues, slot: ChosenSlot) -> BookingIn:
    questionnaire = load_questionnaire()
    partners = []
    for index in range(2):
        fields = {name: first(values, f"partners[{index}].{name}") for name in PARTNER_FIELDS}
        partners.append(
            PartnerIn(
                name=fields["name"],
                email=fields["email"],
                phone=fields["phone"].strip() or None,
                pronouns=fields["pronouns"].strip() or None,
            )
        )
    return BookingIn(
        consultation_type=slot.consultation_type.slug,
        therapist=slot.therapist.slug,
        start=slot.start.isoformat(),
        partners=partners,
        intake=IntakeIn(
            couple=answers_from_form(values, questionnaire.questions_for(COUPLE), "intake.couple"),
            booker=answers_from_form(
                values, questionnaire.questions_for(EACH_PARTNER), "intake.booker"
            ),
        ),
        consents=consents_from_form(values),
        mode=first(values, "mode") or None,
        timezone=slot.tz.key,
    )


def shares_inbox(data: BookingIn) -> bool:
    emails = [p.email.strip().lower() for p in data.partners]
    return len(emails) == 2 and bool(emails[0]) and emails[0] == emails[1]


def booking_form(
    slot: ChosenSlot, form: FormState, key: str, status: int = 200, taken: str | None = None
) -> Template:
    questionnaire = load_questionnaire()
    modes = slot.modes
    if not form.values and len(modes) > 1:
        form = FormState(values={"mode": [modes[0]]})
    return Template(
        "public/book.html",
        context={
            "slot": slot,
            "modes": modes,
            "form": form,
            "key": key,
            "taken": taken,
            "couple_sections": questionnaire.to_public(COUPLE)["sections"],
            "private_sections": questionnaire.to_public(EACH_PARTNER)["sections"],
            "consents": consents(),
            "shared_inbox_warning": SHARED_INBOX_WARNING,
        },
        status_code=status,
    )


class BookingPages(Controller):
    """`/book`: the details form for a chosen time, and its answer."""

    path = "/book"
    include_in_schema = False
    opt = {ERROR_BACK: ("times", "Choose a time")}

    @get("/", name="book")
    async def form(
        self,
        directory: NamedDependency[DirectoryService],
        creation: NamedDependency[BookingCreation],
        type: FromQuery[str | None] = None,
        therapist: FromQuery[str | None] = None,
        start: FromQuery[str | None] = None,
        tz: FromQuery[str | None] = None,
    ) -> Template:
        slot = await choose_slot(
            directory,
            type,
            therapist,
            start,
            tz,
            creation.clock(),
            creation.settings.takes_payments,
        )
        # One key per rendered form: a double submit replays the first booking.
        return booking_form(slot, FormState(), secrets.token_urlsafe(24))

    @post("/", status_code=303)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        directory: NamedDependency[DirectoryService],
        creation: NamedDependency[BookingCreation],
    ) -> Response[Any]:
        values = await form_values(request)
        slot = await choose_slot(
            directory,
            first(values, "type"),
            first(values, "therapist"),
            first(values, "start"),
            first(values, "tz"),
            creation.clock(),
            creation.settings.takes_payments,
        )
        key = first(values, "idempotency_key") or secrets.token_urlsafe(24)
        data = booking_from_form(values, slot)
        try:
            created = (
                await creation.create(data, checked_idempotency_key(key), client_address(request))
            ).booking
        except ValidationFailed as exc:
            # Going back after booking and sending the form again, changed, reuses its key.
            problems = [
                FieldError(f.field, ALREADY_SENT) if f.field == "Idempotency-Key" else f
                for f in exc.fields
            ]
            form = FormState.failed(values, problems, booking_labels(slot.modes))
            return booking_form(slot, form, key, status=422)
        except SlotUnavailable as exc:
            return booking_form(slot, FormState(values), key, status=409, taken=exc.message)
        except BookingLimitReached as exc:
            # Listed above the form, tied to no field: it must not say which email it was.
            form = FormState.failed(values, [FieldError("booking", exc.message)], {})
            return booking_form(slot, form, key, status=409)
        token = created.manage_url.rsplit("/", 1)[1]
        if created.payment is not None:
            # A held booking of a type with a deposit: paying it is the next step.
            return Redirect(request.app.route_reverse("pay", token=token), status_code=303)
        notes = [NOTE_SUPPORT] if created.support else []
        if shares_inbox(data):
            notes.append(NOTE_SHARED_INBOX)
        manage = request.app.route_reverse("manage", token=token)
        cookies = (
            [
                Cookie(
                    key=NOTES_COOKIE,
                    value=".".join(notes),
                    path=manage,
                    max_age=600,
                    httponly=True,
                    samesite="lax",
                    secure=request.url.scheme == "https",
                )
            ]
            if notes
            else None
        )
        return Redirect(manage, query_params={"booked": "1"}, cookies=cookies, status_code=303)
