"""Every staff route refuses whoever may not reach it, and every unsafe request needs the
form's CSRF token; enumerated from the application's own route table, so a new route is
covered the day it is added."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking.core.audit import AuditEvent
from booking.staff.tables import StaffAccount, StaffSession
from booking.web.staff_auth import ANYONE, STAFF_ACCESS, safe_next
from tests.integration.conftest import FixedClock
from tests.integration.practice import Practice
from tests.staff_support import create_staff, form_token, session_cookie, sign_in

HTML = {"accept": "text/html"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def staff_routes(app: Litestar) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path with sample parameters, opt) of every route under /staff."""
    found = []
    for route in app.routes:
        if not route.path.startswith("/staff"):
            continue
        path = re.sub(r"\{[^}]+\}", "sample", route.path)
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((method, path, dict(handler.opt)))
    return found


async def test_every_staff_route_refuses_an_anonymous_request(
    client: AsyncTestClient[Any],
) -> None:
    routes = staff_routes(client.app)
    assert {path for _, path, _ in routes} >= {"/staff/login", "/staff/logout"}

    token = await form_token(client, "/staff/login")
    for method, path, opt in routes:
        if opt.get(STAFF_ACCESS) == ANYONE:
            continue
        response = await client.request(method, path, headers=HTML, data={"_csrf_token": token})
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"].startswith("/staff/login"), (method, path)


async def test_the_only_routes_open_to_anyone_are_signing_in_and_out(
    client: AsyncTestClient[Any],
) -> None:
    open_routes = {
        (method, path)
        for method, path, opt in staff_routes(client.app)
        if opt.get(STAFF_ACCESS) == ANYONE
    }

    assert open_routes == {
        ("GET", "/staff/login"),
        ("POST", "/staff/login"),
        ("POST", "/staff/logout"),
    }


async def test_an_anonymous_page_request_is_sent_to_sign_in_and_back(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.get("/staff/two-factor/setup", headers=HTML)

    assert response.status_code == 303
    assert response.headers["location"] == "/staff/login?next=%2Fstaff%2Ftwo-factor%2Fsetup"


@pytest.mark.parametrize("token", [None, "", "forged" * 20], ids=["missing", "empty", "wrong"])
async def test_every_unsafe_staff_request_without_its_csrf_token_is_refused_and_changes_nothing(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock, token: str | None
) -> None:
    login = await create_staff(therapist="ana")
    await sign_in(client, login, at=clock())
    before = (await StaffSession.count(), await AuditEvent.count(), await StaffAccount.select())

    for method, path, _ in staff_routes(client.app):
        if method not in UNSAFE:
            continue
        data = {"email": login.email, "password": login.password, "code": "123456"}
        if token is not None:
            data["_csrf_token"] = token
        response = await client.request(method, path, headers=HTML, data=data)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "did not come from this site" in response.text

    after = (await StaffSession.count(), await AuditEvent.count(), await StaffAccount.select())
    assert after == before


async def test_a_sign_in_without_its_csrf_token_signs_nobody_in(
    client: AsyncTestClient[Any], practice: Practice
) -> None:
    login = await create_staff(therapist="ana")
    await client.get("/staff/login", headers=HTML)  # the CSRF cookie, but no token posted

    response = await client.post(
        "/staff/login", data={"email": login.email, "password": login.password}, headers=HTML
    )

    assert response.status_code == 403
    assert session_cookie(client) is None
    assert await StaffSession.count() == 0


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/staff",
        "//evil.example/staff",
        "/\\evil.example",
        "/staff//evil.example",
        "/staff\\@evil.example",
        "javascript:alert(1)",
        "/elsewhere",
        "/staffevil",
        " /staff",
    ],
)
async def test_the_sign_in_next_parameter_never_leaves_the_staff_side(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock, target: str
) -> None:
    login = await create_staff(therapist="ana")

    response = await sign_in(client, login, at=clock(), next=target)

    assert response.status_code == 303
    assert response.headers["location"] == "/staff"
    assert safe_next(target) == "/staff"
