"""Signing in with a password (and the second factor where due), the session that results,
and signing out: what the person sees, and what the server keeps."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from booking.core.audit import AuditEvent
from booking.staff.principal import Role
from booking.staff.tables import StaffSession
from tests.integration.conftest import FixedClock
from tests.integration.practice import Practice
from tests.staff_support import (
    create_staff,
    csrf_token,
    form_token,
    post_form,
    session_cookie,
    set_session_cookie,
    sign_in,
)

HTML = {"accept": "text/html"}


async def test_the_sign_in_page_is_a_private_form_with_a_csrf_token(
    client: AsyncTestClient[Any],
) -> None:
    page = await client.get("/staff/login", headers=HTML)

    assert page.status_code == 200
    assert 'name="email"' in page.text
    assert 'name="password"' in page.text
    assert csrf_token(page.text)
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in page.headers  # development: no HTTPS


async def test_a_therapist_signs_in_and_is_sent_where_they_asked(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana")

    response = await sign_in(client, login, at=clock(), next="/staff/account")

    assert response.status_code == 303
    assert response.headers["location"] == "/staff/account"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert await StaffSession.count() == 1


async def test_a_wrong_password_and_an_unknown_email_get_the_same_message(
    client: AsyncTestClient[Any], practice: Practice
) -> None:
    login = await create_staff(therapist="ana")
    token = await form_token(client, "/staff/login")

    wrong = await post_form(
        client, "/staff/login", {"email": login.email, "password": "not the password!"}, token
    )
    unknown = await post_form(
        client, "/staff/login", {"email": "nobody@staff.example.org", "password": "x" * 14}, token
    )

    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "That email and password do not match." in response.text
    assert session_cookie(client) is None
    assert await StaffSession.count() == 0


async def test_sign_out_deletes_the_session_so_the_old_cookie_is_refused(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana")
    await sign_in(client, login, at=clock())
    old = session_cookie(client)
    assert old is not None
    token = await form_token(client, "/staff/account")

    out = await post_form(client, "/staff/logout", {}, token)

    assert out.status_code == 303
    assert out.headers["location"] == "/staff/login?signed_out=1"
    assert await StaffSession.count() == 0
    set_session_cookie(client, old)
    again = await client.get("/staff/two-factor/setup", headers=HTML)
    assert again.status_code == 303
    assert again.headers["location"].startswith("/staff/login")


async def test_an_admin_signs_in_with_a_totp_code(
    client: AsyncTestClient[Any], clock: FixedClock
) -> None:
    login = await create_staff(Role.ADMIN)

    response = await sign_in(client, login, at=clock())

    assert response.status_code == 303
    assert response.headers["location"] == "/staff"
    actions = await AuditEvent.select(AuditEvent.action).output(as_list=True)
    assert "staff.signed_in" in actions


async def test_the_account_page_changes_the_password_and_ends_the_other_sessions(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana")
    await sign_in(client, login, at=clock())
    page = await client.get("/staff/account", headers=HTML)
    assert page.status_code == 200
    assert "Change your password" in page.text

    response = await post_form(
        client,
        "/staff/account/password",
        {
            "current_password": login.password,
            "password": "a new and long passphrase",
            "password_again": "a new and long passphrase",
        },
        csrf_token(page.text),
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/staff/account?done=password"
    assert await StaffSession.count() == 1
    done = await client.get("/staff/account?done=password", headers=HTML)
    assert "Your password is changed" in done.text
