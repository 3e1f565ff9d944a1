"""Helpers for tests of the staff side: an account of any role (optionally a therapist's, with
the second factor enrolled) made through the real services, signing a test client in through
the real pages (CSRF token and second factor included), and reading a form's CSRF token.

    login = await create_staff(Role.ADMIN)                     # admins get TOTP enrolled
    login = await create_staff(therapist="dana-okafor")         # a therapist's own account
    response = await sign_in(client, login, at=clock())         # 303 to `next` or /staff

The second factor's code is computed for `at` (pass the app's clock: tests run on a fixed
one). A TOTP step is accepted once per account: signing the same account in twice within one
30-second step needs the clock moved on, or a recovery code (`login.recovery_codes`).
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyotp
from httpx import Response

from booking.core.audit import SYSTEM
from booking.core.db import write_transaction
from booking.core.settings import Settings
from booking.core.timezones import utc_now
from booking.scheduling.demo import THERAPISTS
from booking.staff.accounts import StaffAccounts, account_by_email
from booking.staff.principal import Role
from booking.staff.second_factor import new_recovery_codes, new_secret, recovery_code_hash
from booking.staff.sessions import DatabaseSessionStore, Sessions
from booking.staff.sign_in import totp_context
from booking.staff.tables import StaffAccount, StaffRecoveryCode

# Passes the password rules; each account gets its own by default.
PASSWORD = "correct pony battery staple"
_numbers = itertools.count(1)
_CSRF_INPUT = re.compile(r'<input[^>]*name="_csrf_token"[^>]*value="([^"]+)"')


@dataclass(frozen=True)
class StaffLogin:
    """An account made for a test, with what signing in needs."""

    account_id: int
    email: str
    password: str
    role: Role
    totp_secret: str | None = None
    recovery_codes: list[str] = field(default_factory=list)

    def code(self, at: datetime) -> str:
        """The TOTP code for `at` (the account must have the second factor)."""
        if self.totp_secret is None:
            raise ValueError("this account has no second factor")
        return pyotp.TOTP(self.totp_secret).at(at)


async def create_staff(
    role: Role = Role.THERAPIST,
    *,
    therapist: str | None = None,
    email: str | None = None,
    password: str = PASSWORD,
    name: str = "",
    totp: bool | None = None,
    one_time: bool = False,
) -> StaffLogin:
    """A new account on the bound database. `totp=None` enrols the second factor when the role
    always needs it (admins); `one_time=True` makes the password one to change at first
    sign-in. A therapist's account needs `therapist` (a slug of an existing therapist)."""
    settings = Settings.from_env()
    number = next(_numbers)
    email = email or f"{role.value}{number}@staff.example.org"
    accounts = StaffAccounts(Sessions(settings, DatabaseSessionStore(), utc_now), utc_now)
    created = await accounts.create(
        email,
        role,
        actor=SYSTEM,
        name=name or f"Staff Member {chr(ord('A') + number % 26)}",
        therapist=therapist,
        password=password,
    )
    account_id = created.account.id
    if one_time:
        await StaffAccount.update({StaffAccount.must_change_password: True}).where(
            StaffAccount.id == account_id
        )
    secret: str | None = None
    codes: list[str] = []
    if totp or (totp is None and role is Role.ADMIN):
        secret = new_secret()
        codes = new_recovery_codes()
        sealed = settings.keyring().encrypt(secret.encode(), totp_context(account_id))
        async with write_transaction():
            await StaffAccount.update({StaffAccount.totp_secret: sealed}).where(
                StaffAccount.id == account_id
            )
            await StaffRecoveryCode.insert(
                *(
                    StaffRecoveryCode(account=account_id, code_hash=recovery_code_hash(c))
                    for c in codes
                )
            )
    return StaffLogin(account_id, created.account.email, password, role, secret, codes)


async def demo_account(therapist: str, password: str = PASSWORD) -> StaffLogin:
    """The account `booking demo` made for demo therapist `therapist` (a slug), given
    `password` as its own (so no change is asked at sign-in); no second factor."""
    settings = Settings.from_env()
    email = next(t["email"] for t in THERAPISTS if t["slug"] == therapist)
    account = await account_by_email(email)
    accounts = StaffAccounts(Sessions(settings, DatabaseSessionStore(), utc_now), utc_now)
    await accounts.set_password(account.id, password, actor=SYSTEM)
    return StaffLogin(account.id, account.email, password, Role.THERAPIST)


def csrf_token(page: str) -> str:
    """The CSRF token of the (first) form on `page`."""
    found = _CSRF_INPUT.search(page)
    if found is None:
        raise AssertionError("the page has no form with a CSRF token")
    return html.unescape(found.group(1))


async def form_token(client: Any, path: str) -> str:
    """The CSRF token of the form of the page at `path`."""
    page = await client.get(path, headers={"accept": "text/html"})
    return csrf_token(page.text)


async def post_form(
    client: Any, path: str, data: dict[str, str], token: str | None = None
) -> Response:
    """POSTs `data` as a form to `path` with a CSRF token (the given one, else the one of the
    page at the path `path` itself shows)."""
    token = token if token is not None else await form_token(client, path)
    response: Response = await client.post(
        path, data={**data, "_csrf_token": token}, headers={"accept": "text/html"}
    )
    return response


async def sign_in(
    client: Any,
    login: StaffLogin,
    *,
    at: datetime,
    next: str | None = None,
    code: str | None = None,
) -> Response:
    """Signs `client` in as `login` through the sign-in pages; returns the last answer (a 303
    to `next`, /staff, or a step still due such as a new password). The second factor uses
    `code`, else the TOTP code for `at`."""
    token = await form_token(client, "/staff/login")
    data = {"email": login.email, "password": login.password}
    if next is not None:
        data["next"] = next
    response = await post_form(client, "/staff/login", data, token)
    location = response.headers.get("location", "")
    if response.status_code == 303 and location.split("?")[0] == "/staff/two-factor":
        page = await client.get(location, headers={"accept": "text/html"})
        response = await post_form(
            client,
            "/staff/two-factor",
            {"code": code or login.code(at), "next": next or "/staff"},
            csrf_token(page.text),
        )
    return response


def session_cookie(client: Any) -> str | None:
    """The staff session cookie the client holds now."""
    value = client.cookies.get("staff_session", domain=_host(client))
    return str(value) if value is not None else None


def set_session_cookie(client: Any, value: str) -> None:
    """Makes the client send `value` as its staff session cookie (an old or a forged one)."""
    client.cookies.set("staff_session", value, domain=_host(client))


def _host(client: Any) -> str:
    return str(client.base_url.host)
