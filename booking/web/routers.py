"""One Router per audience (`booking.web.audiences`): which routes each holds, in one place.

A new route joins the router of the audience it answers and so gets that audience's headers,
error rendering and rate limit; nothing else needs to learn its path.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler, Empty, EmptyType, ExceptionHandlersMap

from booking.web.audiences import (
    OPERATIONS,
    PRIVATE_API,
    PRIVATE_PAGES,
    PUBLIC_API,
    PUBLIC_PAGES,
    Audience,
)
from booking.web.booking_pages import BookingPages
from booking.web.bookings_api import BookingController
from booking.web.feeds import FeedController
from booking.web.health import HealthController
from booking.web.http_errors import PAGE_ERRORS
from booking.web.intake_api import IntakeController
from booking.web.intake_pages import IntakePages
from booking.web.manage_pages import ManagePages
from booking.web.public_api import (
    AvailabilityController,
    DirectoryController,
    QuestionnaireController,
)
from booking.web.public_pages import PublicPages

SCHEMA_PATH = "/schema"


def audience_routers(static: Path) -> list[Router]:
    """The routers of every audience but the OpenAPI document's (see `schema_router`), with the
    static files under /static among the public pages."""
    return [
        _router(PUBLIC_API, [DirectoryController, AvailabilityController, QuestionnaireController]),
        _router(
            PUBLIC_PAGES,
            [
                PublicPages,
                create_static_files_router(path="/static", directories=[static], name="static"),
            ],
            include_in_schema=False,
        ),
        _router(PRIVATE_API, [BookingController, IntakeController, FeedController]),
        # A service's refusal on a private page is always the calm page: the person followed
        # a link or filled in a form, whatever their browser asked for.
        _router(
            PRIVATE_PAGES,
            [BookingPages, ManagePages, IntakePages],
            include_in_schema=False,
            exception_handlers=PAGE_ERRORS,
        ),
        _router(OPERATIONS, [HealthController]),
    ]


def schema_router() -> Router:
    """The (empty) operations router that Litestar's OpenAPI plugin fills with /schema."""
    return Router(SCHEMA_PATH, route_handlers=[], opt=OPERATIONS.opt, include_in_schema=False)


def _router(
    audience: Audience,
    handlers: list[ControllerRouterHandler],
    *,
    include_in_schema: bool | EmptyType = Empty,
    exception_handlers: ExceptionHandlersMap | None = None,
) -> Router:
    # At "/": the controllers keep their full paths, so a route reads the same wherever it is.
    return Router(
        "/",
        route_handlers=handlers,
        opt=audience.opt,
        include_in_schema=include_in_schema,
        exception_handlers=exception_handlers,
    )
