"""Who a staff request comes from, decided once per request: the session cookie, the guard
every staff route passes, the `principal` dependency and the admin-only guard.

Every route of the staff router (`booking.web.routers`) passes `staff_guard`. By default a
route needs a fully signed-in session (the principal); a route's `opt` may instead name
`STAFF_ACCESS: ANYONE` (the sign-in form) or the sign-in `Step` it serves (the second factor,
enrolment, a new password), reached only by a session at that step. An anonymous browser is
sent to the sign-in page with the path it asked for (`next`, kept to this site's staff
paths); a session part-way through signing in, to its next step; what a person may not reach
answers 404, as what does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect

from booking.core.clients import address_digest
from booking.core.settings import Settings
from booking.staff.accounts import Account
from booking.staff.principal import Role, StaffPrincipal
from booking.staff.sessions import Issued, SessionRecord, Sessions
from booking.staff.sign_in import Client, SignIn, Step
from booking.web.clients import client_address

STAFF_ROOT = "/staff"
LOGIN_PATH = "/staff/login"
# A route's opt: who may reach it (default: a fully signed-in session).
STAFF_ACCESS = "staff_access"
ANYONE = "anyone"
# A route's opt: that the fully signed-in may reach it too, beside the step it serves.
SIGNED_IN_TOO = "signed_in_too"
STEP_PATHS = {
    Step.SECOND_FACTOR: "/staff/two-factor",
    Step.ENROL: "/staff/two-factor/setup",
    Step.NEW_PASSWORD: "/staff/password",
}
_STATE_KEY = "staff_visit"
# A path on this site: one slash, then no slash or backslash (`//host`, `/\host` leave it).
_SAFE_NEXT = re.compile(r"/staff(?:[/?#][^\\\s]*)?")


def cookie_name(settings: Settings) -> str:
    """The session cookie: `__Host-` prefixed in production, so only this host over HTTPS may
    set it, for every path."""
    return "__Host-staff_session" if settings.is_production else "staff_session"


def csrf_cookie_name(settings: Settings) -> str:
    return "__Host-staff_csrf" if settings.is_production else "staff_csrf"


def safe_next(value: str | None) -> str:
    """Where to go after signing in: `value` when it is a staff path of this site, else the
    staff home. Nothing else (another host, a scheme, `//host`, `/\\host`) is followed."""
    if value and _SAFE_NEXT.fullmatch(value) and "//" not in value and value.isprintable():
        return value
    return STAFF_ROOT


@dataclass(frozen=True, slots=True)
class Visit:
    """A request's standing: its live session and account (None: anonymous) and the sign-in
    step still due (None with an account: fully signed in)."""

    record: SessionRecord | None = None
    account: Account | None = None
    step: Step | None = None

    @property
    def signed_in(self) -> bool:
        return self.account is not None and self.step is None


class StaffAuth:
    """The staff side's sign-in services and cookie policy, as the web layer uses them."""

    def __init__(self, settings: Settings, sessions: Sessions, sign_in: SignIn) -> None:
        self.settings = settings
        self.sessions = sessions
        self.sign_in = sign_in
        self.cookie = cookie_name(settings)

    async def visit(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Visit:
        """The request's `Visit`, worked out once and kept for the rest of the request."""
        cached = connection.scope.get("state", {}).get(_STATE_KEY)
        if isinstance(cached, Visit):
            return cached
        visit = Visit()
        record = await self.sessions.find(connection.cookies.get(self.cookie, ""))
        if record is not None:
            account = await self.sign_in.session_account(record)
            if account is None:
                await self.sessions.end(record)
            else:
                visit = Visit(record, account, self.sign_in.next_step(account, record.stage))
        self.remember(connection, visit)
        return visit

    def remember(self, connection: ASGIConnection[Any, Any, Any, Any], visit: Visit) -> None:
        connection.scope.setdefault("state", {})[_STATE_KEY] = visit

    def client(self, request: Request[Any, Any, Any]) -> Client:
        """The request's address digest and User-Agent, as the audit log keeps them."""
        address = client_address(request)
        digest = address_digest(self.settings.secret_key, address) if address else ""
        return Client(digest, request.headers.get("user-agent", ""))

    def with_session(self, response: Response[Any], issued: Issued) -> Response[Any]:
        """`response` setting the cookie of a new session id (a browser-session cookie)."""
        response.set_cookie(
            Cookie(
                key=self.cookie,
                value=issued.session_id,
                path="/",
                httponly=True,
                samesite="lax",
                secure=self.settings.is_production,
            )
        )
        return response

    def without_session(self, response: Response[Any]) -> Response[Any]:
        """`response` deleting the session cookie, and the CSRF cookie with it (the next form
        gets a new token)."""
        for key in (self.cookie, csrf_cookie_name(self.settings)):
            response.set_cookie(
                Cookie(
                    key=key,
                    value="",
                    path="/",
                    max_age=0,
                    httponly=True,
                    samesite="lax",
                    secure=self.settings.is_production,
                )
            )
        return response


def staff_auth(connection: ASGIConnection[Any, Any, Any, Any]) -> StaffAuth:
    auth = connection.app.state["staff_auth"]
    if not isinstance(auth, StaffAuth):
        raise TypeError("the application's state holds no StaffAuth")
    return auth


class SignInRequired(NotAuthorizedException):
    """No live session: the browser is sent to the sign-in page (`staff_redirects`)."""

    def __init__(self, next_path: str) -> None:
        super().__init__("Sign in to continue.")
        self.next_path = next_path


class StepRequired(NotAuthorizedException):
    """A session part-way through signing in, asking for a page past its step."""

    def __init__(self, step: Step, next_path: str) -> None:
        super().__init__("Finish signing in to continue.")
        self.step = step
        self.next_path = next_path


def step_url(step: Step, next_path: str) -> str:
    target = safe_next(next_path)
    query = f"?{urlencode({'next': target})}" if target != STAFF_ROOT else ""
    return STEP_PATHS[step] + query


def login_url(next_path: str) -> str:
    target = safe_next(next_path)
    query = f"?{urlencode({'next': target})}" if target != STAFF_ROOT else ""
    return LOGIN_PATH + query


def _asked_for(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The path (and query) asked for, when it is a page worth coming back to (a GET)."""
    if connection.scope.get("method") != "GET":
        return STAFF_ROOT
    query = connection.scope.get("query_string", b"").decode("latin-1")
    return connection.url.path + (f"?{query}" if query else "")


async def staff_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Lets the request through only when its session may reach the route (module docs)."""
    access = handler.opt.get(STAFF_ACCESS)
    if access == ANYONE:
        return
    visit = await staff_auth(connection).visit(connection)
    if visit.account is None:
        raise SignInRequired(_asked_for(connection))
    if isinstance(access, Step):
        if visit.step is access or (visit.step is None and handler.opt.get(SIGNED_IN_TOO)):
            return
        if visit.step is None:
            raise NotFoundException()
        raise StepRequired(visit.step, _asked_for(connection))
    if visit.step is not None:
        raise StepRequired(visit.step, _asked_for(connection))


async def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """For admin-only routes (after `staff_guard`): anyone else gets 404, as for nothing."""
    visit = await staff_auth(connection).visit(connection)
    if visit.account is None or visit.step is not None or visit.account.role is not Role.ADMIN:
        raise NotFoundException()


async def provide_principal(request: Request[Any, Any, Any]) -> StaffPrincipal:
    """The `principal` dependency: the fully signed-in member of staff (the guard has made
    sure there is one)."""
    auth = staff_auth(request)
    visit = await auth.visit(request)
    if visit.account is None or visit.step is not None:
        raise SignInRequired(_asked_for(request))
    return auth.sign_in.principal(visit.account)


async def provide_visit(request: Request[Any, Any, Any]) -> Visit:
    return await staff_auth(request).visit(request)


def sign_in_redirect(_: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    return Redirect(login_url(exc.next_path), status_code=303)


def step_redirect(_: Request[Any, Any, Any], exc: StepRequired) -> Response[Any]:
    return Redirect(step_url(exc.step, exc.next_path), status_code=303)


STAFF_REDIRECTS: dict[Any, Any] = {SignInRequired: sign_in_redirect, StepRequired: step_redirect}
