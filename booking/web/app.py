"""create_app(settings): the only place the application is assembled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template import TemplateConfig
from piccolo.engine.base import Engine

from booking.bookings.booked_time import LiveBookings
from booking.bookings.create import BookingCreation
from booking.bookings.holds import sweep_holds_forever
from booking.bookings.links import LinkService
from booking.bookings.manage import BookingManagement
from booking.bookings.outcomes import ConsultationOutcomes
from booking.bookings.reassign import Reassignment
from booking.core.db import close_pool, make_engine, open_pool
from booking.core.ratelimit import rate_limit_store
from booking.core.settings import Settings, get_settings
from booking.core.timezones import Clock, utc_now
from booking.intake.consents import load_support
from booking.intake.screen import AnswerRecords, QuestionnaireScreen, support_out
from booking.intake.services import PartnerIntakeService
from booking.notifications.announcer import OutboxAnnouncer
from booking.notifications.feeds import FeedService
from booking.payments.records import DepositRecords
from booking.payments.refunds import Refunds
from booking.payments.service import PaymentService, make_gateway
from booking.payments.webhook import PaymentWebhook
from booking.piccolo_app import use_engine
from booking.scheduling.cache import CachedAvailability
from booking.scheduling.hours_editor import HoursEditor
from booking.scheduling.services import AvailabilityService, DirectoryService
from booking.staff.accounts import StaffAccounts
from booking.staff.audit_log import AuditLog
from booking.staff.consultation import ConsultationPage
from booking.staff.erase import EraseService
from booking.staff.export import ExportService
from booking.staff.feed import WorkspaceFeed
from booking.staff.home import WorkspaceHome
from booking.staff.hours import WorkspaceHours
from booking.staff.notes import NoteService
from booking.staff.passwords import warm_up
from booking.staff.policies import PolicyService
from booking.staff.queue import ReviewQueue
from booking.staff.reports import ReportService
from booking.staff.review import BookingReview
from booking.staff.sessions import Sessions, session_store
from booking.staff.sign_in import SignIn
from booking.staff.two_factor import TwoFactor
from booking.web import templating
from booking.web.headers import allow_every_method, security_headers
from booking.web.http_errors import EXCEPTION_HANDLERS
from booking.web.observability import RequestObservation, ResponseObservation
from booking.web.openapi import ApiDocument
from booking.web.ratelimit import WriteRateLimit
from booking.web.routers import SCHEMA_PATH, audience_routers, schema_router
from booking.web.staff_auth import StaffAuth
from booking.worker import EmbeddedWorker

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "booking" / "static"


def create_app(
    settings: Settings | None = None, engine: Engine[Any] | None = None, clock: Clock = utc_now
) -> Litestar:
    """The service for `settings` (from the environment by default) on `engine`.

    `clock` tells the time to every policy (notice, horizon); tests pass a fixed one.
    """
    settings = settings or get_settings()
    engine = engine or make_engine(settings)
    use_engine(engine)
    rate_limits = rate_limit_store(settings)
    sessions = Sessions(settings, session_store(settings), clock)

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        # An engine handed over with its pool already open stays its owner's to close.
        owned = await open_pool(engine)
        sweeper = (
            asyncio.create_task(sweep_holds_forever(clock, settings.hold_sweep_seconds))
            if settings.hold_sweep_seconds
            else None
        )
        worker = (
            EmbeddedWorker(settings, engine, clock)
            if settings.broker_url is None and settings.embedded_worker
            else None
        )
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await asyncio.to_thread(worker.stop)
            if sweeper is not None:
                sweeper.cancel()
            await rate_limits.close()
            await sessions.close()
            if owned:
                await close_pool(engine)

    availability = AvailabilityService(settings.practice_timezone, LiveBookings(), clock)
    cached_availability = CachedAvailability(availability)
    directory = DirectoryService()
    keyring = settings.keyring()
    support = load_support(settings.support_file)
    feeds = FeedService(settings, clock)
    announcer = OutboxAnnouncer()
    booker_support = support_out(support)
    creation = BookingCreation(
        settings,
        keyring,
        clock,
        availability,
        booker_support,
        screen=QuestionnaireScreen(),
        records=AnswerRecords(keyring),
        announcer=announcer,
    )
    # What cancellations and late payments do with deposits (booking.payments.refunds).
    refunds = Refunds()
    management = BookingManagement(
        settings,
        keyring,
        clock,
        availability,
        announcer=announcer,
        calendars=feeds,
        payments=DepositRecords(),
        deposits=refunds,
    )
    gateway = make_gateway(settings)
    payments = PaymentService(
        settings, clock, gateway, management, announcer=announcer, late=refunds
    )
    payment_webhook = PaymentWebhook(settings.stripe_webhook_secret or "", gateway, payments, clock)
    intake = PartnerIntakeService(keyring, clock, support, announcer)
    sign_in = SignIn(settings, keyring, clock)
    staff = StaffAuth(settings, sessions, sign_in)
    accounts = StaffAccounts(sessions, clock)
    two_factor = TwoFactor(keyring, clock, settings.practice_name)
    # The therapist's workspace (booking.staff): hours, home, consultations, calendar feed.
    workspace_hours = WorkspaceHours(HoursEditor(keyring, clock), availability, clock)
    workspace_home = WorkspaceHome(clock)
    consultation_page = ConsultationPage(keyring, ConsultationOutcomes(clock, announcer), clock)
    workspace_feed = WorkspaceFeed(feeds, clock)
    # The admin's people, policies and reports pages.
    policies = PolicyService(clock)
    reports = ReportService(settings.practice_timezone, clock)
    # The admin's review (booking.staff): queue, couple's page, notes, export, erase, audit log.
    review = {
        "review_queue": ReviewQueue(settings.practice_timezone, clock),
        "booking_review": BookingReview(
            keyring,
            clock,
            LinkService(settings, clock, announcer),
            Reassignment(settings, clock, availability, announcer=announcer),
            management,
        ),
        "review_notes": NoteService(keyring, clock),
        "review_export": ExportService(keyring, clock),
        "review_erase": EraseService(clock),
        "audit_log": AuditLog(settings.practice_timezone),
    }
    warm_up()

    return Litestar(
        route_handlers=audience_routers(STATIC, settings),
        dependencies={
            "settings": _provide(settings),
            "directory": _provide(directory),
            "availability": _provide(availability),
            "cached_availability": _provide(cached_availability),
            "creation": _provide(creation),
            "management": _provide(management),
            "payments": _provide(payments),
            "payment_webhook": _provide(payment_webhook),
            "booker_support": _provide(booker_support),
            # Not "intake": Litestar takes a body field of a dependency's name (BookingIn.intake)
            # for that dependency and turns its validation error into a 500.
            "partner_intake": _provide(intake),
            "feeds": _provide(feeds),
            "accounts": _provide(accounts),
            "two_factor": _provide(two_factor),
            "workspace_hours": _provide(workspace_hours),
            "workspace_home": _provide(workspace_home),
            "consultation_page": _provide(consultation_page),
            "workspace_feed": _provide(workspace_feed),
            "policies": _provide(policies),
            "reports": _provide(reports),
            **{name: _provide(service) for name, service in review.items()},
        },
        middleware=[RequestObservation(settings), WriteRateLimit(settings, rate_limits, clock)],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[security_headers, allow_every_method, ResponseObservation(settings)],
        lifespan=[database],
        state=_state(settings, engine, staff),
        template_config=TemplateConfig(
            directory=TEMPLATES,
            engine=JinjaTemplateEngine,
            engine_callback=lambda jinja: templating.configure(jinja.engine, settings, support),
        ),
        openapi_config=OpenAPIConfig(
            title=f"{settings.practice_name}: consultation booking API",
            version="1",
            path=SCHEMA_PATH,
            openapi_router=schema_router(),
            # The document only: Litestar's documentation pages load unpinned scripts from
            # CDNs, which the Content-Security-Policy (rightly) refuses. Completed with every
            # error each operation answers (booking.web.openapi).
            render_plugins=[ApiDocument(path=["/openapi.json", "/"])],
        ),
        request_max_body_size=64 * 1024,
        debug=False,
        # Given, so Litestar reads no LITESTAR_PDB from the environment (a debugger on error).
        pdb_on_exception=False,
        logging_config=None,
    )


def _provide(service: object) -> Provide:
    """`service`, the one instance every request is given."""
    return Provide(lambda: service, use_cache=True, sync_to_thread=False)


def _state(settings: Settings, engine: Engine[Any], staff: StaffAuth) -> State:
    return State({"settings": settings, "engine": engine, "staff_auth": staff})
