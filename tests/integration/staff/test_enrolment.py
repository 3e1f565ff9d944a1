"""A first sign-in that must set up the second factor or choose a password: the enrolment
page (QR code, grouped secret, otpauth:// URI), recovery codes shown once, and the rules a
new password meets."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import pyotp
import pytest
from litestar.testing import AsyncTestClient

from booking.core.crypto import Keyring
from booking.core.settings import Settings
from booking.staff.principal import Role
from booking.staff.sign_in import totp_context
from booking.staff.tables import StaffAccount
from booking.staff.two_factor import rotate_second_factor_keys
from booking.web.app import create_app
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import Practice
from tests.staff_support import create_staff, csrf_token, post_form, sign_in

HTML = {"accept": "text/html"}


@pytest.fixture
async def strict(database: Database, clock: FixedClock) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app with STAFF_REQUIRE_TOTP=1, as in production."""
    settings = dataclasses.replace(Settings.from_env(), staff_require_totp=True)
    async with AsyncTestClient(
        create_app(settings, database.engine, clock), base_url="http://testserver.local"
    ) as client:
        client.follow_redirects = False
        yield client


async def test_a_therapist_enrols_when_totp_is_required_and_sees_ten_codes_once(
    strict: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana", totp=False)

    response = await sign_in(strict, login, at=clock(), next="/staff/account")
    assert response.headers["location"] == "/staff/two-factor/setup?next=%2Fstaff%2Faccount"
    page = await strict.get(response.headers["location"], headers=HTML)
    assert page.status_code == 200
    uri = re.search(r"otpauth://totp/[^<\s]+", page.text)
    assert uri is not None
    assert "<svg" in page.text
    secret = pyotp.parse_uri(uri.group(0).replace("&amp;", "&")).secret
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert grouped in page.text

    wrong = await post_form(
        strict, "/staff/two-factor/setup", {"code": "000000"}, csrf_token(page.text)
    )
    assert wrong.status_code == 422
    assert uri.group(0) in wrong.text  # the same secret until it is confirmed
    done = await post_form(
        strict,
        "/staff/two-factor/setup",
        {"code": pyotp.TOTP(secret).at(clock()), "next": "/staff/account"},
        csrf_token(page.text),
    )

    assert done.status_code == 200
    codes = re.findall(r"<code>([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})</code>", done.text)
    assert len(set(codes)) == 10
    assert done.headers["cache-control"] == "no-store"
    account = await strict.get("/staff/account", headers=HTML)
    assert account.status_code == 200
    assert "10 unused recovery codes left" in account.text
    assert not any(code in account.text for code in codes)


async def test_an_admin_without_a_second_factor_must_enrol_before_anything_else(
    client: AsyncTestClient[Any], clock: FixedClock
) -> None:
    login = await create_staff(Role.ADMIN, totp=False)

    response = await sign_in(client, login, at=clock())

    assert response.headers["location"] == "/staff/two-factor/setup"
    account = await client.get("/staff/account", headers=HTML)
    assert account.headers["location"].startswith("/staff/two-factor/setup")


async def test_without_the_requirement_a_therapist_signs_in_with_the_password_alone(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana", totp=False)

    response = await sign_in(client, login, at=clock())

    assert response.headers["location"] == "/staff"


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short pass", "at least 12 characters"),
        ("Password1234", "too common"),
        ("aaaaaaaaaaaaaaaa", "too common"),
    ],
)
async def test_a_one_time_password_must_be_replaced_by_a_strong_one(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock, password: str, problem: str
) -> None:
    login = await create_staff(therapist="ana", one_time=True)
    response = await sign_in(client, login, at=clock())
    assert response.headers["location"] == "/staff/password"
    page = await client.get("/staff/password", headers=HTML)
    token = csrf_token(page.text)

    refused = await post_form(
        client, "/staff/password", {"password": password, "password_again": password}, token
    )
    assert refused.status_code == 422
    assert problem in refused.text
    differ = await post_form(
        client,
        "/staff/password",
        {"password": "my own long passphrase", "password_again": "my own long passphrase!"},
        token,
    )
    assert "The two new passwords differ." in differ.text
    accepted = await post_form(
        client,
        "/staff/password",
        {"password": "my own long passphrase", "password_again": "my own long passphrase"},
        token,
    )

    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/staff"
    assert (await client.get("/staff/account", headers=HTML)).status_code == 200


async def test_rotating_the_keys_reseals_totp_secrets_under_the_new_key(
    client: AsyncTestClient[Any], clock: FixedClock
) -> None:
    login = await create_staff(Role.ADMIN)
    old = Settings.from_env().data_key
    new_key = f"k2027:{Keyring.generate_key()}"

    assert await rotate_second_factor_keys(Keyring.parse(f"{new_key},{old}")) == 1

    row = await StaffAccount.select(StaffAccount.totp_secret).first()
    assert row is not None
    only_new = Keyring.parse(new_key)
    secret = only_new.decrypt(row["totp_secret"], totp_context(login.account_id)).decode()
    assert secret == login.totp_secret
