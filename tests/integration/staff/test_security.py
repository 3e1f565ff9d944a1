"""The staff side's security promises, one test each: new session ids at each privilege
change, timeouts under a faked clock, lockout, the same cost for unknown emails, single-use
codes, and an audit row for every sign-in event."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.testing import AsyncTestClient

from booking.core.audit import AuditEvent
from booking.core.settings import Settings
from booking.core.timezones import utc_now
from booking.staff.accounts import StaffAccounts
from booking.staff.principal import Role, StaffPrincipal
from booking.staff.sessions import DatabaseSessionStore, Sessions
from booking.staff.tables import StaffAccount, StaffSession
from booking.web import routers
from booking.web.app import create_app
from booking.web.staff_auth import admin_only
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import Practice
from tests.staff_support import (
    create_staff,
    form_token,
    post_form,
    session_cookie,
    set_session_cookie,
    sign_in,
)

HTML = {"accept": "text/html", "user-agent": "StaffTestBrowser/1.0"}


async def _reaches_account(client: AsyncTestClient[Any]) -> bool:
    response = await client.get("/staff/account", headers=HTML)
    return response.status_code == 200


async def test_the_session_id_changes_when_the_password_and_the_second_factor_are_accepted(
    client: AsyncTestClient[Any], clock: FixedClock
) -> None:
    login = await create_staff(Role.ADMIN)
    set_session_cookie(client, "chosen-by-someone-else")
    token = await form_token(client, "/staff/login")

    after_password = await post_form(
        client, "/staff/login", {"email": login.email, "password": login.password}, token
    )
    password_id = session_cookie(client)
    assert after_password.headers["location"] == "/staff/two-factor"
    assert password_id not in (None, "chosen-by-someone-else")
    after_code = await post_form(client, "/staff/two-factor", {"code": login.code(clock())}, token)
    code_id = session_cookie(client)

    assert after_code.headers["location"] == "/staff"
    assert code_id not in (None, password_id)
    assert await _reaches_account(client)
    assert password_id is not None
    set_session_cookie(client, password_id)
    assert not await _reaches_account(client)


async def test_a_half_signed_in_session_reaches_only_its_next_step(
    client: AsyncTestClient[Any],
) -> None:
    login = await create_staff(Role.ADMIN)
    token = await form_token(client, "/staff/login")
    await post_form(
        client, "/staff/login", {"email": login.email, "password": login.password}, token
    )

    for path in ("/staff/account", "/staff/two-factor/setup"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/staff/two-factor?"), path


async def test_a_session_unused_for_the_idle_timeout_ends(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana")
    await sign_in(client, login, at=clock())

    clock.now += timedelta(minutes=14)
    assert await _reaches_account(client)  # used: the idle time starts again
    clock.now += timedelta(minutes=14)
    assert await _reaches_account(client)
    clock.now += timedelta(minutes=15)

    response = await client.get("/staff/account", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?next=%2Fstaff%2Faccount"
    assert await StaffSession.count() == 0


async def test_a_session_ends_at_its_absolute_timeout_however_busy(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana")
    await sign_in(client, login, at=clock())

    for _ in range(12 * 6 - 1):  # every ten minutes for just under twelve hours
        clock.now += timedelta(minutes=10)
        assert await _reaches_account(client), clock.now
    clock.now += timedelta(minutes=10)

    assert not await _reaches_account(client)


async def test_five_wrong_passwords_lock_the_account_until_the_lock_ends(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana")
    token = await form_token(client, "/staff/login")
    wrong = {"email": login.email, "password": "wrong but long enough"}
    right = {"email": login.email, "password": login.password}

    answers = [await post_form(client, "/staff/login", wrong, token) for _ in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 401, 423]
    assert "locked" in answers[-1].text

    clock.now += timedelta(minutes=14, seconds=59)
    refused = await post_form(client, "/staff/login", right, token)
    assert refused.status_code == 423
    assert "Try again in 1 minute." in refused.text
    assert session_cookie(client) is None

    clock.now += timedelta(seconds=2)
    accepted = await post_form(client, "/staff/login", right, token)
    assert accepted.status_code == 303
    assert await _reaches_account(client)


async def test_each_further_lock_lasts_longer(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana")
    token = await form_token(client, "/staff/login")
    wrong = {"email": login.email, "password": "wrong but long enough"}
    for _ in range(5):
        await post_form(client, "/staff/login", wrong, token)
    clock.now += timedelta(minutes=15, seconds=1)

    for _ in range(5):
        last = await post_form(client, "/staff/login", wrong, token)

    assert last.status_code == 423
    assert "Try again in 30 minutes." in last.text


async def test_an_unknown_email_takes_as_long_as_a_known_one(
    client: AsyncTestClient[Any], practice: Practice
) -> None:
    login = await create_staff(therapist="ana")
    token = await form_token(client, "/staff/login")

    async def timed(email: str) -> float:
        started = time.perf_counter()
        response = await post_form(
            client, "/staff/login", {"email": email, "password": "wrong but long enough"}, token
        )
        assert response.status_code == 401
        return time.perf_counter() - started

    known, unknown = [], []
    for number in range(4):  # alternating, so load on the machine hits both alike
        known.append(await timed(login.email))
        unknown.append(await timed(f"nobody{number}@staff.example.org"))
    # Four failures: the account is not locked, yet each attempt cost an argon2 check.
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.6 < ratio < 1.6, (known, unknown)


async def test_a_totp_code_is_not_accepted_twice(
    client: AsyncTestClient[Any], clock: FixedClock
) -> None:
    login = await create_staff(Role.ADMIN)
    code = login.code(clock())
    first = await sign_in(client, login, at=clock(), code=code)
    assert first.headers["location"] == "/staff"
    client.cookies.clear()

    again = await sign_in(client, login, at=clock(), code=code)

    assert again.status_code == 401
    assert "was used already" in again.text
    assert not await _reaches_account(client)


async def test_a_recovery_code_signs_in_once(
    client: AsyncTestClient[Any], clock: FixedClock
) -> None:
    login = await create_staff(Role.ADMIN)
    code = login.recovery_codes[3].upper().replace("-", " ")  # as typed from a printout

    first = await sign_in(client, login, at=clock(), code=code)
    assert first.headers["location"] == "/staff"
    page = await client.get("/staff/account", headers=HTML)
    assert "9 unused recovery codes left" in page.text
    client.cookies.clear()

    again = await sign_in(client, login, at=clock(), code=login.recovery_codes[3])
    assert again.status_code == 401


async def test_every_sign_in_event_writes_an_audit_row_without_private_content(
    client: AsyncTestClient[Any], clock: FixedClock
) -> None:
    client.headers["user-agent"] = "StaffTestBrowser/1.0"
    login = await create_staff(Role.ADMIN)
    token = await form_token(client, "/staff/login")
    await post_form(
        client, "/staff/login", {"email": login.email, "password": "wrong one!!!!"}, token
    )
    await post_form(
        client,
        "/staff/login",
        {"email": "who@staff.example.org", "password": "guess12345678"},
        token,
    )
    await sign_in(client, login, at=clock())
    await post_form(client, "/staff/logout", {}, await form_token(client, "/staff/account"))

    rows = (
        await AuditEvent.select()
        .where(AuditEvent.action.like("staff.%"))
        .order_by(AuditEvent._meta.primary_key)
    )
    assert [(r["action"], r["actor"]) for r in rows] == [
        ("staff.account_created", "system"),
        ("staff.sign_in_failed", f"staff:{login.account_id}"),
        ("staff.sign_in_failed", "anonymous"),
        ("staff.password_accepted", f"staff:{login.account_id}"),
        ("staff.second_factor_accepted", f"staff:{login.account_id}"),
        ("staff.signed_in", f"staff:{login.account_id}"),
        ("staff.signed_out", f"staff:{login.account_id}"),
    ]
    for row in rows[1:]:
        assert len(row["client_address"]) == 64  # a digest, never the address
        assert row["user_agent"] == "StaffTestBrowser/1.0"
    text = repr(rows)
    for private in (login.email, "who@staff", login.password, "wrong one", "guess1234"):
        assert private not in text


async def test_a_lockout_is_audited(client: AsyncTestClient[Any], practice: Practice) -> None:
    login = await create_staff(therapist="ana")
    token = await form_token(client, "/staff/login")
    for _ in range(5):
        await post_form(client, "/staff/login", {"email": login.email, "password": "x" * 13}, token)

    locked = await AuditEvent.select(AuditEvent.record).where(AuditEvent.action == "staff.locked")
    assert locked == [{"record": f"staff_account:{login.account_id} 15 minutes"}]


async def test_failures_from_one_address_are_throttled_whatever_the_email(
    client: AsyncTestClient[Any], practice: Practice
) -> None:
    login = await create_staff(therapist="ana")
    token = await form_token(client, "/staff/login")
    for number in range(20):
        await post_form(
            client,
            "/staff/login",
            {"email": f"guess{number}@staff.example.org", "password": "x" * 13},
            token,
        )

    throttled = await post_form(
        client, "/staff/login", {"email": login.email, "password": login.password}, token
    )

    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "900"
    assert session_cookie(client) is None


async def test_disabling_an_account_ends_its_sessions(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana")
    await sign_in(client, login, at=clock())
    accounts = StaffAccounts(
        Sessions(Settings.from_env(), DatabaseSessionStore(), utc_now), utc_now
    )

    await accounts.disable(login.account_id, actor=StaffPrincipal(0, "", "", Role.ADMIN).actor)

    assert await StaffSession.count() == 0
    assert not await _reaches_account(client)
    again = await sign_in(client, login, at=clock())
    assert again.status_code == 401


async def test_sign_out_everywhere_ends_every_session_of_the_account(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock, database: Database
) -> None:
    login = await create_staff(therapist="ana")
    other = await create_staff(therapist=None, role=Role.ADMIN)
    await sign_in(client, login, at=clock())
    app = create_app(Settings.from_env(), database.engine, clock)
    async with AsyncTestClient(app, base_url="http://testserver.local") as second:
        second.follow_redirects = False
        await sign_in(second, login, at=clock())
        async with AsyncTestClient(app, base_url="http://testserver.local") as admin:
            admin.follow_redirects = False
            await sign_in(admin, other, at=clock())
            assert await StaffSession.count() == 3

            response = await post_form(
                client,
                "/staff/account/sign-out-everywhere",
                {},
                await form_token(client, "/staff/account"),
            )

            assert response.headers["location"] == "/staff/login?signed_out=1"
            assert not await _reaches_account(client)
            assert not await _reaches_account(second)
            assert await _reaches_account(admin)


class AdminProbe(Controller):
    """An admin-only page, as the review pages will be."""

    path = "/probe-admin"
    guards = [admin_only]

    @get("/")
    async def probe(self, principal: NamedDependency[StaffPrincipal]) -> str:
        return f"admin {principal.account_id}"


@pytest.fixture
async def probed(
    monkeypatch: pytest.MonkeyPatch, database: Database, clock: FixedClock
) -> AsyncIterator[AsyncTestClient[Any]]:
    monkeypatch.setattr(routers, "STAFF_CONTROLLERS", [*routers.STAFF_CONTROLLERS, AdminProbe])
    app = create_app(Settings.from_env(), database.engine, clock)
    async with AsyncTestClient(app, base_url="http://testserver.local") as client:
        client.follow_redirects = False
        yield client


async def test_an_admin_only_page_is_not_found_for_a_therapist(
    probed: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    therapist = await create_staff(therapist="ana")
    await sign_in(probed, therapist, at=clock())

    response = await probed.get("/staff/probe-admin", headers=HTML)

    assert response.status_code == 404
    assert "could not find" in response.text


async def test_an_admin_only_page_answers_an_admin(
    probed: AsyncTestClient[Any], clock: FixedClock
) -> None:
    admin = await create_staff(Role.ADMIN)
    await sign_in(probed, admin, at=clock())

    response = await probed.get("/staff/probe-admin")

    assert response.status_code == 200
    assert response.text == f"admin {admin.account_id}"


async def test_in_production_the_cookies_are_host_prefixed_and_secure_and_hsts_is_sent(
    database: Database, practice: Practice, clock: FixedClock
) -> None:
    settings = dataclasses.replace(Settings.from_env(), env="production")
    app = create_app(settings, database.engine, clock)
    login = await create_staff(therapist="ana")
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        client.follow_redirects = False
        page = await client.get("/staff/login", headers=HTML)
        csrf_cookie = page.headers["set-cookie"]
        response = await post_form(
            client, "/staff/login", {"email": login.email, "password": login.password}
        )
    session = response.headers["set-cookie"]

    assert page.headers["strict-transport-security"].startswith("max-age=")
    assert csrf_cookie.startswith("__Host-staff_csrf=")
    assert session.startswith("__Host-staff_session=")
    for cookie in (csrf_cookie, session):
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "Path=/" in cookie
        assert "Domain" not in cookie
    assert await StaffAccount.count() == 1
