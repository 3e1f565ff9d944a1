"""`/staff/account`: a member of staff's own account: change the password, set up or replace
the second factor, new recovery codes, sign out everywhere (staff.md, "Account")."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from booking.core.errors import FieldError, ValidationFailed
from booking.staff.accounts import StaffAccounts, find_account
from booking.staff.passwords import MIN_LENGTH, verify_password
from booking.staff.principal import StaffPrincipal
from booking.staff.tables import StaffAccount
from booking.staff.two_factor import TwoFactor
from booking.web.forms import FormState, first, form_values
from booking.web.staff_auth import LOGIN_PATH, staff_auth
from booking.web.staff_sign_in import PASSWORD_LABELS, change_password

DONE = {
    "password": "Your password is changed. Other devices were signed out.",
}


class AccountPages(Controller):
    path = "/account"
    include_in_schema = False

    @get("/", name="staff-account")
    async def view(
        self,
        principal: NamedDependency[StaffPrincipal],
        two_factor: NamedDependency[TwoFactor],
        done: FromQuery[str | None] = None,
    ) -> Template:
        return await _page(principal, two_factor, message=DONE.get(done or ""))

    @post("/password", status_code=303)
    async def password(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        accounts: NamedDependency[StaffAccounts],
        two_factor: NamedDependency[TwoFactor],
    ) -> Response[Any]:
        auth = staff_auth(request)
        visit = await auth.visit(request)
        values = await form_values(request)
        account = visit.account
        if account is None or visit.record is None:  # pragma: no cover - guarded
            return Redirect(LOGIN_PATH, status_code=303)
        try:
            stored = (
                await StaffAccount.select(StaffAccount.password_hash)
                .where(StaffAccount.id == account.id)
                .first()
            )
            if not verify_password(
                stored["password_hash"] if stored else None, first(values, "current_password")
            ):
                raise ValidationFailed(
                    "Your current password is not right.",
                    [FieldError("current_password", "This is not your current password.")],
                )
            await change_password(values, account, accounts, auth, request)
        except ValidationFailed as exc:
            form = FormState.failed({}, exc.fields, PASSWORD_LABELS)
            return await _page(principal, two_factor, password_form=form, status=422)
        # Every session ended with the old password; this one carries on under a new id.
        issued = await auth.sessions.begin(account.id, visit.record.stage)
        return auth.with_session(Redirect("/staff/account?done=password", status_code=303), issued)

    @post("/recovery-codes", status_code=200)
    async def recovery_codes(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        two_factor: NamedDependency[TwoFactor],
    ) -> Template:
        account = await find_account(account_id=principal.account_id)
        if account is None or not account.has_second_factor:
            return await _page(
                principal,
                two_factor,
                error="Set up the second factor first: recovery codes come with it.",
                status=409,
            )
        codes = await two_factor.new_codes(account, staff_auth(request).client(request))
        # The codes are on this answer only (never stored in clear, never cached).
        return Template(
            template_name="staff/recovery_codes.html",
            context={
                "codes": codes,
                "continue_to": "/staff/account",
                "principal": principal,
                "enrolled": False,
            },
        )

    @post("/sign-out-everywhere", status_code=303)
    async def sign_out_everywhere(self, request: Request[Any, Any, Any]) -> Response[Any]:
        auth = staff_auth(request)
        visit = await auth.visit(request)
        if visit.account is not None:
            await auth.sessions.end_all(visit.account.id)
            await auth.sign_in.signed_out(visit.account.id, auth.client(request), everywhere=True)
        return auth.without_session(Redirect(f"{LOGIN_PATH}?signed_out=1", status_code=303))


async def _page(
    principal: StaffPrincipal,
    two_factor: TwoFactor,
    *,
    password_form: FormState | None = None,
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Template:
    account = await find_account(account_id=principal.account_id)
    has_second_factor = bool(account and account.has_second_factor)
    return Template(
        template_name="staff/account.html",
        context={
            "principal": principal,
            "form": password_form or FormState(),
            "min_length": MIN_LENGTH,
            "has_second_factor": has_second_factor,
            "codes_left": await two_factor.codes_left(account) if account else 0,
            "message": message,
            "error": error,
        },
        status_code=status,
    )
