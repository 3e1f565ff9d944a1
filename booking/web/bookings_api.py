"""Bookings API: create, read by manage link, cancel, reschedule (a private audience: the
answers hold the manage link and the booking's details)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody

from booking.bookings.create import BookingCreation
from booking.bookings.manage import BookingManagement
from booking.bookings.schemas import (
    BookingCreated,
    BookingIn,
    BookingView,
    CancelIn,
    Cancelled,
    RescheduleIn,
)
from booking.core.errors import (
    BookingLimitReached,
    NotBookableOnline,
    SlotUnavailable,
    TooLate,
    ValidationFailed,
)
from booking.web.clients import client_address
from booking.web.openapi import declares


def checked_idempotency_key(value: str | None) -> str | None:
    """The Idempotency-Key header's value, refused with a 422 unless 1 to 200 printable
    characters."""
    if value is None:
        return None
    if not 1 <= len(value) <= 200 or not value.isprintable():
        raise ValidationFailed.on(
            "Idempotency-Key", "An Idempotency-Key is 1 to 200 printable characters."
        )
    return value


class BookingController(Controller):
    path = "/api/v1/bookings"
    tags = ["bookings"]

    @post(
        summary="Book a consultation (or hold it, for a type with a deposit)",
        status_code=201,
        opt=declares(SlotUnavailable, BookingLimitReached, NotBookableOnline),
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[BookingIn],
        creation: NamedDependency[BookingCreation],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(name="Idempotency-Key", description="Repeat-safe key for this request"),
        ] = None,
    ) -> Response[BookingCreated]:
        created = await creation.create(
            data, checked_idempotency_key(idempotency_key), client_address(request)
        )
        # A replay answers as the first request did.
        return Response(created.booking, status_code=201)

    @get("/{manage_token:str}", summary="A booking, by its manage link")
    async def view(
        self, manage_token: FromPath[str], management: NamedDependency[BookingManagement]
    ) -> BookingView:
        return await management.view(manage_token)

    @get(
        "/{manage_token:str}/invite.ics",
        summary="The booking as a calendar file (same event as the emails)",
        media_type="text/calendar",
        name="booking-calendar",
    )
    async def calendar_file(
        self, manage_token: FromPath[str], management: NamedDependency[BookingManagement]
    ) -> Response[bytes]:
        return Response(
            await management.calendar_file(manage_token),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="consultation.ics"'},
        )

    @post(
        "/{manage_token:str}/cancel",
        summary="Cancel a booking",
        status_code=200,
        opt=declares(TooLate),
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        manage_token: FromPath[str],
        management: NamedDependency[BookingManagement],
        data: JSONBody[CancelIn | None] = None,
    ) -> Cancelled:
        reason = data.reason if data else None
        return await management.cancel(manage_token, reason, client_address(request))

    @post(
        "/{manage_token:str}/reschedule",
        summary="Move a booking",
        status_code=200,
        opt=declares(SlotUnavailable, TooLate),
    )
    async def reschedule(
        self,
        request: Request[Any, Any, Any],
        manage_token: FromPath[str],
        data: JSONBody[RescheduleIn],
        management: NamedDependency[BookingManagement],
    ) -> BookingView:
        return await management.reschedule(manage_token, data.start, client_address(request))
