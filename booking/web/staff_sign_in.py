"""The sign-in pages of the staff side: the password, the second factor, a first enrolment,
a new password in place of a one-time one, and sign-out (staff.md, "Signing in").

Each step that raises the session's privilege gives it a new id (`Sessions.begin`/`renew`);
failures come back as the form again with one message, whatever was wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from booking.core.errors import FieldError, ValidationFailed
from booking.staff.accounts import Account, StaffAccounts
from booking.staff.passwords import MIN_LENGTH
from booking.staff.principal import StaffPrincipal
from booking.staff.second_factor import Enrolment
from booking.staff.sessions import Stage
from booking.staff.sign_in import Attempt, Refusal, Step
from booking.staff.two_factor import TwoFactor
from booking.web.forms import FormState, SummaryItem, first, form_values
from booking.web.staff_auth import (
    ANYONE,
    LOGIN_PATH,
    SIGNED_IN_TOO,
    STAFF_ACCESS,
    StaffAuth,
    Visit,
    login_url,
    safe_next,
    staff_auth,
    step_url,
)

MISMATCH = "That email and password do not match."
CODE_MISMATCH = "That code is not right, or was used already. Try the newest code."
THROTTLED = "Too many failed sign-ins from your address. Wait 15 minutes and try again."
SIGNED_OUT = "You are signed out."
STATUS = {Refusal.MISMATCH: 401, Refusal.LOCKED: 423, Refusal.THROTTLED: 429}


def locked_message(until: datetime | None, now: datetime) -> str:
    minutes = max(1, int(((until or now) - now).total_seconds() + 59) // 60)
    return (
        "This account is locked after too many failed attempts. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


def refusal_message(attempt: Attempt, auth: StaffAuth, mismatch: str) -> str:
    if attempt.refusal is Refusal.LOCKED:
        return locked_message(attempt.locked_until, auth.sign_in.clock())
    if attempt.refusal is Refusal.THROTTLED:
        return THROTTLED
    return mismatch


def _refused(template: str, context: dict[str, Any], attempt: Attempt) -> Template:
    status = STATUS[attempt.refusal or Refusal.MISMATCH]
    headers = {"Retry-After": "900"} if attempt.refusal is Refusal.THROTTLED else None
    return Template(template_name=template, context=context, status_code=status, headers=headers)


async def advance(
    request: Request[Any, Any, Any], auth: StaffAuth, visit: Visit, next_path: str
) -> Response[Any]:
    """Where a session goes after a step: its next step, or (every step done) the page it
    asked for, the sign-in audited."""
    account, record = visit.account, visit.record
    if account is None or record is None:
        return Redirect(login_url(next_path), status_code=303)
    step = auth.sign_in.next_step(account, record.stage)
    if step is not None:
        return Redirect(step_url(step, next_path), status_code=303)
    await auth.sign_in.signed_in(account, auth.client(request))
    return Redirect(safe_next(next_path), status_code=303)


class SignInPages(Controller):
    """`/staff/login`, `/staff/two-factor`, `/staff/two-factor/setup`, `/staff/password`,
    `/staff/logout`."""

    include_in_schema = False

    @get("/login", name="staff-login", opt={STAFF_ACCESS: ANYONE})
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        next: FromQuery[str | None] = None,
        signed_out: FromQuery[str | None] = None,
    ) -> Response[Any]:
        visit = await staff_auth(request).visit(request)
        if visit.signed_in:
            return Redirect(safe_next(next), status_code=303)
        return Template(
            template_name="staff/login.html",
            context={
                "form": FormState(),
                "next": safe_next(next),
                "message": SIGNED_OUT if signed_out else None,
            },
        )

    @post("/login", status_code=303, opt={STAFF_ACCESS: ANYONE})
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        auth = staff_auth(request)
        values = await form_values(request)
        next_path = safe_next(first(values, "next"))
        email, password = first(values, "email"), first(values, "password")
        if not email.strip() or not password:
            problems = [
                FieldError(name, message)
                for name, message in (
                    ("email", "Enter your email."),
                    ("password", "Enter your password."),
                )
                if not first(values, name).strip()
            ]
            form = FormState.failed({"email": [email]}, problems, LOGIN_LABELS)
            return Template(
                template_name="staff/login.html",
                context={"form": form, "next": next_path},
                status_code=422,
            )
        attempt = await auth.sign_in.check_password(email, password, auth.client(request))
        if attempt.account is None:
            form = FormState(
                {"email": [email]}, summary=[_summary(refusal_message(attempt, auth, MISMATCH))]
            )
            return _refused("staff/login.html", {"form": form, "next": next_path}, attempt)
        # A session begun before signing in (or someone else's, on a shared browser) ends.
        old = await auth.visit(request)
        if old.record is not None:
            await auth.sessions.end(old.record)
        issued = await auth.sessions.begin(attempt.account.id, Stage.PASSWORD)
        visit = Visit(issued.record, attempt.account, None)
        return auth.with_session(await advance(request, auth, visit, next_path), issued)

    @get("/two-factor", name="staff-second-factor", opt={STAFF_ACCESS: Step.SECOND_FACTOR})
    async def second_factor_form(
        self,
        next: FromQuery[str | None] = None,
    ) -> Template:
        return Template(
            template_name="staff/second_factor.html",
            context={"form": FormState(), "next": safe_next(next)},
        )

    @post("/two-factor", status_code=303, opt={STAFF_ACCESS: Step.SECOND_FACTOR})
    async def second_factor(
        self, request: Request[Any, Any, Any], visit: NamedDependency[Visit]
    ) -> Response[Any]:
        auth = staff_auth(request)
        values = await form_values(request)
        next_path = safe_next(first(values, "next"))
        if visit.account is None or visit.record is None:
            return Redirect(login_url(next_path), status_code=303)
        attempt = await auth.sign_in.check_code(
            visit.account, first(values, "code"), auth.client(request)
        )
        if attempt.account is None:
            form = FormState(summary=[_summary(refusal_message(attempt, auth, CODE_MISMATCH))])
            return _refused("staff/second_factor.html", {"form": form, "next": next_path}, attempt)
        issued = await auth.sessions.renew(visit.record, Stage.SECOND_FACTOR)
        renewed = Visit(issued.record, visit.account, None)
        return auth.with_session(await advance(request, auth, renewed, next_path), issued)

    @get(
        "/two-factor/setup",
        name="staff-enrol",
        opt={STAFF_ACCESS: Step.ENROL, SIGNED_IN_TOO: True},
    )
    async def enrol_form(
        self,
        request: Request[Any, Any, Any],
        visit: NamedDependency[Visit],
        two_factor: NamedDependency[TwoFactor],
        next: FromQuery[str | None] = None,
    ) -> Template:
        account = _account(visit)
        principal = _principal_if_signed_in(request, visit)
        return _enrol_page(await two_factor.pending(account), account, principal, safe_next(next))

    @post(
        "/two-factor/setup",
        status_code=200,
        opt={STAFF_ACCESS: Step.ENROL, SIGNED_IN_TOO: True},
    )
    async def enrol(
        self,
        request: Request[Any, Any, Any],
        visit: NamedDependency[Visit],
        two_factor: NamedDependency[TwoFactor],
    ) -> Response[Any]:
        auth = staff_auth(request)
        account = _account(visit)
        values = await form_values(request)
        next_path = safe_next(first(values, "next"))
        codes = await two_factor.confirm(account, first(values, "code"), auth.client(request))
        if codes is None:
            form = FormState.failed(
                {}, [FieldError("code", CODE_MISMATCH)], {"code": "Code from the app"}
            )
            principal = _principal_if_signed_in(request, visit)
            return _enrol_page(
                await two_factor.pending(account), account, principal, next_path, form, status=422
            )
        if visit.record is None:  # pragma: no cover - the guard lets no session-less visit here
            return Redirect(login_url(next_path), status_code=303)
        # Enrolled: as good as a second factor accepted, so the session gets a new id.
        issued = await auth.sessions.renew(visit.record, Stage.SECOND_FACTOR)
        refreshed = await auth.sign_in.session_account(issued.record) or account
        step = auth.sign_in.next_step(refreshed, Stage.SECOND_FACTOR)
        if step is None and visit.step is not None:
            await auth.sign_in.signed_in(refreshed, auth.client(request))
        # The codes are on this answer only (never stored, never cached): no redirect.
        page = Template(
            template_name="staff/recovery_codes.html",
            context={
                "codes": codes,
                "continue_to": step_url(step, next_path) if step else next_path,
                "principal": auth.sign_in.principal(refreshed) if step is None else None,
                "enrolled": True,
            },
        )
        return auth.with_session(page, issued)

    @get("/password", name="staff-new-password", opt={STAFF_ACCESS: Step.NEW_PASSWORD})
    async def new_password_form(
        self,
        next: FromQuery[str | None] = None,
    ) -> Template:
        return Template(
            template_name="staff/new_password.html",
            context={"form": FormState(), "next": safe_next(next), "min_length": MIN_LENGTH},
        )

    @post("/password", status_code=303, opt={STAFF_ACCESS: Step.NEW_PASSWORD})
    async def new_password(
        self,
        request: Request[Any, Any, Any],
        visit: NamedDependency[Visit],
        accounts: NamedDependency[StaffAccounts],
    ) -> Response[Any]:
        auth = staff_auth(request)
        account = _account(visit)
        values = await form_values(request)
        next_path = safe_next(first(values, "next"))
        try:
            await change_password(values, account, accounts, auth, request)
        except ValidationFailed as exc:
            form = FormState.failed({}, exc.fields, PASSWORD_LABELS)
            return Template(
                template_name="staff/new_password.html",
                context={"form": form, "next": next_path, "min_length": MIN_LENGTH},
                status_code=422,
            )
        # Every session of the account ended with the old password; this one begins anew.
        stage = visit.record.stage if visit.record else Stage.PASSWORD
        issued = await auth.sessions.begin(account.id, stage)
        refreshed = await auth.sign_in.session_account(issued.record) or account
        renewed = Visit(issued.record, refreshed, None)
        return auth.with_session(await advance(request, auth, renewed, next_path), issued)

    @post("/logout", status_code=303, name="staff-logout", opt={STAFF_ACCESS: ANYONE})
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        auth = staff_auth(request)
        visit = await auth.visit(request)
        if visit.record is not None:
            await auth.sessions.end(visit.record)
            await auth.sign_in.signed_out(
                visit.record.account_id, auth.client(request), everywhere=False
            )
        return auth.without_session(Redirect(f"{LOGIN_PATH}?signed_out=1", status_code=303))


LOGIN_LABELS = {"email": "Email", "password": "Password"}
PASSWORD_LABELS = {
    "current_password": "Current password",
    "password": "New password",
    "password_again": "New password again",
}


async def change_password(
    values: dict[str, list[str]],
    account: Account,
    accounts: StaffAccounts,
    auth: StaffAuth,
    request: Request[Any, Any, Any],
) -> None:
    """Sets the posted new password (typed twice) as the account's own; ends its sessions."""
    password, again = first(values, "password"), first(values, "password_again")
    if password != again:
        raise ValidationFailed.on("password_again", "The two new passwords differ.")
    client = auth.client(request)
    await accounts.set_password(
        account.id,
        password,
        actor=auth.sign_in.principal(account).actor,
        client=client.address,
        agent=client.agent,
    )


def _summary(message: str) -> SummaryItem:
    return SummaryItem(message, None)


def _principal_if_signed_in(request: Request[Any, Any, Any], visit: Visit) -> StaffPrincipal | None:
    """The principal for the page's navigation, only once every sign-in step is done."""
    if visit.account is None or visit.step is not None:
        return None
    return staff_auth(request).sign_in.principal(visit.account)


def _account(visit: Visit) -> Account:
    if visit.account is None:  # pragma: no cover - the guard lets no anonymous visit here
        raise ValidationFailed("Sign in to continue.")
    return visit.account


def _enrol_page(
    enrolment: Enrolment,
    account: Account,
    principal: StaffPrincipal | None,
    next_path: str,
    form: FormState | None = None,
    status: int = 200,
) -> Template:
    return Template(
        template_name="staff/enrol.html",
        context={
            "enrolment": enrolment,
            "form": form or FormState(),
            "next": next_path,
            "replacing": account.has_second_factor,
            "principal": principal,
        },
        status_code=status,
    )
