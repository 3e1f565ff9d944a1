"""`/staff/people`: the admin's page of staff accounts (staff.md, "People and policies"): the
list with role, therapist and state; add an account; disable one; reset its password or its
second factor. Admins only (anyone else: 404).

Thin: parse the form, call `StaffAccounts`, render. A new account's one-time password, and a
reset one, are shown on the answer to the form that made them and nowhere else (not in a
redirect, never stored in clear); staff pages are `no-store`, so no cache keeps them.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from booking.core.errors import NotFound, ValidationFailed
from booking.staff.accounts import Account, AccountConflict, LastAdmin, StaffAccounts, find_account
from booking.staff.policies import PolicyService
from booking.staff.principal import Role, StaffPrincipal
from booking.web.forms import FormState, FormValues, first, form_values
from booking.web.staff_auth import admin_only
from booking.web.workspace import acting

PEOPLE_PATH = "/staff/people"
ACCOUNT_LABELS = {"email": "Email", "name": "Name", "role": "Role", "therapist": "Therapist"}
DONE = {
    "disabled": "The account is disabled: it can no longer sign in, and its sessions ended.",
    "enabled": "The account is enabled again: it signs in with its own password and second factor.",
    "second-factor": (
        "The second factor is reset and the account's sessions ended. At the next sign-in "
        "it sets up a new authenticator app (admins always; therapists when required)."
    ),
}


class PeoplePages(Controller):
    """The staff accounts page and its forms."""

    path = "/people"
    guards = [admin_only]
    include_in_schema = False

    @get("/", name="staff-people")
    async def people(
        self,
        principal: NamedDependency[StaffPrincipal],
        accounts: NamedDependency[StaffAccounts],
        policies: NamedDependency[PolicyService],
        done: FromQuery[str | None] = None,
    ) -> Template:
        return await _page(principal, accounts, policies, message=DONE.get(done or ""))

    @post("/", status_code=200)
    async def add(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        accounts: NamedDependency[StaffAccounts],
        policies: NamedDependency[PolicyService],
    ) -> Template:
        values = await form_values(request)
        role = first(values, "role")
        who = acting(request, principal)
        kept: FormValues = {name: [first(values, name)] for name in ACCOUNT_LABELS}
        try:
            if role not in {r.value for r in Role}:
                raise ValidationFailed.on("role", "Choose admin or therapist.")
            created = await accounts.create(
                first(values, "email"),
                Role(role),
                actor=who.actor,
                name=first(values, "name"),
                therapist=first(values, "therapist").strip() or None,
                client=who.client,
                agent=who.agent,
            )
        except ValidationFailed as problems:
            form = FormState.failed(kept, problems.fields, ACCOUNT_LABELS)
            return await _page(principal, accounts, policies, form=form, status=422)
        except AccountConflict as refused:  # the email, or the therapist, has an account
            form = FormState.failed(kept, [], {})
            return await _page(
                principal, accounts, policies, form=form, error=refused.message, status=409
            )
        return _one_time(principal, created.account, created.one_time_password or "", new=True)

    @post("/{account:str}/disable", status_code=303)
    async def disable(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        accounts: NamedDependency[StaffAccounts],
        policies: NamedDependency[PolicyService],
        account: FromPath[str],
    ) -> Response[Any]:
        who = acting(request, principal)
        account_id = account_number(account)
        try:
            await accounts.disable(account_id, actor=who.actor, client=who.client, agent=who.agent)
        except LastAdmin as refused:
            return await _page(principal, accounts, policies, error=refused.message, status=409)
        return Redirect(f"{PEOPLE_PATH}?done=disabled", status_code=303)

    @post("/{account:str}/enable", status_code=303)
    async def enable(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        accounts: NamedDependency[StaffAccounts],
        account: FromPath[str],
    ) -> Response[Any]:
        who = acting(request, principal)
        await accounts.enable(
            account_number(account), actor=who.actor, client=who.client, agent=who.agent
        )
        return Redirect(f"{PEOPLE_PATH}?done=enabled", status_code=303)

    @post("/{account:str}/reset-password", status_code=200)
    async def reset_password(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        accounts: NamedDependency[StaffAccounts],
        account: FromPath[str],
    ) -> Template:
        who = acting(request, principal)
        account_id = account_number(account)
        password = await accounts.reset_password(
            account_id, actor=who.actor, client=who.client, agent=who.agent
        )
        found = await find_account(account_id=account_id)
        if found is None:  # pragma: no cover - just reset
            raise NotFound("No such staff account.")
        return _one_time(principal, found, password, new=False)

    @post("/{account:str}/reset-second-factor", status_code=303)
    async def reset_second_factor(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[StaffPrincipal],
        accounts: NamedDependency[StaffAccounts],
        account: FromPath[str],
    ) -> Redirect:
        who = acting(request, principal)
        account_id = account_number(account)
        await accounts.reset_second_factor(
            account_id, actor=who.actor, client=who.client, agent=who.agent
        )
        return Redirect(f"{PEOPLE_PATH}?done=second-factor", status_code=303)


def account_number(text: str) -> int:
    """The account id of a path (`/staff/people/{id}/…`); anything but digits is a 404, as
    for an account that does not exist."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise NotFound("No such staff account.")
    return int(text)


def _one_time(principal: StaffPrincipal, account: Account, password: str, *, new: bool) -> Template:
    return Template(
        template_name="staff/people/one_time.html",
        context={"principal": principal, "account": account, "password": password, "new": new},
    )


async def _page(
    principal: StaffPrincipal,
    accounts: StaffAccounts,
    policies: PolicyService,
    *,
    form: FormState | None = None,
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Template:
    listed = await accounts.accounts()
    therapists = await policies.therapists(principal)
    taken = {a.therapist_id for a in listed if a.therapist_id is not None}
    return Template(
        template_name="staff/people/accounts.html",
        context={
            "principal": principal,
            "accounts": listed,
            "now": accounts.clock(),
            "names": {t.id: t.name for t in therapists},
            # A therapist has at most one account: only those without one are offered.
            "free_therapists": [t for t in therapists if t.id not in taken],
            "form": form or FormState({"role": ["therapist"]}),
            "message": message,
            "error": error,
        },
        status_code=status,
    )
