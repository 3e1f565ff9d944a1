"""One Router per audience (`booking.web.audiences`): which routes each holds, in one place.

A new route joins the router of the audience it answers and so gets that audience's headers,
error rendering and rate limit; nothing else needs to learn its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler, Empty, EmptyType, ExceptionHandlersMap

from booking.core.settings import Settings
from booking.core.tokens import derive_token
from booking.web.audiences import (
    OPERATIONS,
    PRIVATE_API,
    PRIVATE_PAGES,
    PUBLIC_API,
    PUBLIC_PAGES,
    STAFF,
    Audience,
)
from booking.web.booking_pages import BookingPages
from booking.web.bookings_api import BookingController
from booking.web.feeds import FeedController
from booking.web.health import HealthController
from booking.web.hours_pages import HoursPages
from booking.web.http_errors import PAGE_ERRORS
from booking.web.intake_api import IntakeController
from booking.web.intake_pages import IntakePages
from booking.web.manage_pages import ManagePages
from booking.web.payment_pages import PaymentPages
from booking.web.payment_webhook import PaymentWebhookController
from booking.web.payments_api import PaymentController
from booking.web.people_pages import PeoplePages
from booking.web.policy_pages import PolicyPages
from booking.web.public_api import (
    AvailabilityController,
    DirectoryController,
    QuestionnaireController,
)
from booking.web.public_pages import PublicPages
from booking.web.report_pages import ReportPages
from booking.web.review_pages import ReviewPages
from booking.web.staff_account import AccountPages
from booking.web.staff_auth import (
    STAFF_REDIRECTS,
    STAFF_ROOT,
    csrf_cookie_name,
    provide_principal,
    provide_visit,
    staff_guard,
)
from booking.web.staff_sign_in import SignInPages
from booking.web.workspace_pages import WorkspacePages

SCHEMA_PATH = "/schema"
# Every controller of the staff side, under /staff (their paths are relative to it): each
# route passes the staff guard (booking.web.staff_auth) and CSRF checks on every unsafe method.
STAFF_CONTROLLERS: list[ControllerRouterHandler] = [
    SignInPages,
    AccountPages,
    WorkspacePages,
    HoursPages,
    PeoplePages,
    PolicyPages,
    ReportPages,
    ReviewPages,
]
CSRF_REFUSED = (
    "This form has expired or did not come from this site. Reload the page and try again."
)


def audience_routers(static: Path, settings: Settings) -> list[Router]:
    """The routers of every audience but the OpenAPI document's (see `schema_router`), with the
    static files under /static among the public pages."""
    return [
        # Stripe's webhook is public (its signature is the gate) and never throttled: Stripe
        # retries what a limit would refuse.
        _router(
            PUBLIC_API,
            [
                DirectoryController,
                AvailabilityController,
                QuestionnaireController,
                PaymentWebhookController,
            ],
        ),
        _router(
            PUBLIC_PAGES,
            [
                PublicPages,
                create_static_files_router(path="/static", directories=[static], name="static"),
            ],
            include_in_schema=False,
        ),
        _router(
            PRIVATE_API, [BookingController, PaymentController, IntakeController, FeedController]
        ),
        # A service's refusal on a private page is always the calm page: the person followed
        # a link or filled in a form, whatever their browser asked for.
        _router(
            PRIVATE_PAGES,
            [BookingPages, ManagePages, PaymentPages, IntakePages],
            include_in_schema=False,
            exception_handlers=PAGE_ERRORS,
        ),
        _router(OPERATIONS, [HealthController]),
        staff_router(settings),
    ]


def staff_router(settings: Settings) -> Router:
    """The staff side under /staff: guarded, CSRF-checked, `principal` for its handlers."""
    from booking.web.http_errors import error_response

    def csrf_refused(request: Any, exc: PermissionDeniedException) -> Any:
        return error_response(request, 403, "forbidden", CSRF_REFUSED)

    csrf = CSRFConfig(
        # Its own key, derived: the CSRF signature never equals any other use of the secret.
        secret=derive_token(settings.secret_key, "staff-csrf", "", 0),
        cookie_name=csrf_cookie_name(settings),
        cookie_path="/",
        cookie_secure=settings.is_production,
        cookie_httponly=True,
        cookie_samesite="lax",
    )
    return Router(
        STAFF_ROOT,
        route_handlers=STAFF_CONTROLLERS,
        opt=STAFF.opt,
        include_in_schema=False,
        guards=[staff_guard],
        middleware=[DefineMiddleware(CSRFMiddleware, config=csrf)],
        dependencies={
            "principal": Provide(provide_principal),
            "visit": Provide(provide_visit),
        },
        exception_handlers={
            **PAGE_ERRORS,
            **STAFF_REDIRECTS,
            PermissionDeniedException: csrf_refused,
        },
    )


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
