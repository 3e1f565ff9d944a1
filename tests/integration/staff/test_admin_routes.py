"""Every admin-only route of the app, found in its route table (not listed by hand, so a new
admin page is covered the day it is added), refuses whoever is not a fully signed-in admin:
an anonymous browser is sent to sign in, a therapist gets 404, an admin without a second
factor is sent to enrol one; none of them sees any of the couple's data or changes it."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from booking.bookings.tables import Booking, Partner
from booking.staff.principal import Role
from booking.web.staff_auth import admin_only
from tests.factories import booking_request
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, Practice
from tests.staff_support import create_staff, form_token, post_form, sign_in

HTML = {"accept": "text/html"}
PLACEHOLDER = re.compile(r"\{(\w+):\w+\}")
# The review's own pages, which must be among those found.
REVIEW_PATHS = {
    "/staff/intakes",
    "/staff/audit",
    "/staff/bookings/{reference:str}/export.json",
    "/staff/bookings/{reference:str}/erase",
}


def admin_routes(app: Litestar) -> list[tuple[str, str]]:
    """(method, path) of every route whose guards, as resolved through its layers, include
    `admin_only`."""
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if admin_only not in handler.resolve_guards():
                continue
            for method in handler.http_methods:
                if method not in ("HEAD", "OPTIONS"):
                    found.add((method, route.path))
    return sorted(found)


async def refusals(
    client: AsyncTestClient[Any], reference: str, token: str
) -> list[tuple[str, str, int, str, str]]:
    """Each admin route asked for, as (method, path, status, location, body)."""
    answers = []
    for method, path in admin_routes(client.app):
        url = PLACEHOLDER.sub(lambda m: reference if m.group(1) == "reference" else "x", path)
        if method == "GET":
            response = await client.get(url, headers=HTML)
        else:
            data = {"confirm": reference, "text": "x", "status": "closed", "partner": "2"}
            response = await post_form(client, url, data, token)
        answers.append(
            (
                method,
                path,
                response.status_code,
                response.headers.get("location", ""),
                response.text,
            )
        )
    return answers


async def a_booking(client: AsyncTestClient[Any]) -> str:
    response = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


async def unchanged(reference: str) -> bool:
    booking = await Booking.select(Booking.erased_at, Booking.review_status).where(
        Booking.reference == reference
    )
    names = await Partner.select(Partner.name).order_by(Partner.position)
    return booking == [{"erased_at": None, "review_status": "new"}] and [
        n["name"] for n in names
    ] == ["Robin Park", "Sam Park"]


async def test_the_admin_routes_are_found_in_the_route_table(client: AsyncTestClient[Any]) -> None:
    routes = admin_routes(client.app)

    assert routes
    assert {path for _, path in routes} >= REVIEW_PATHS
    assert ("POST", "/staff/bookings/{reference:str}/erase") in routes


async def test_an_anonymous_browser_is_sent_to_sign_in_and_sees_nothing(
    client: AsyncTestClient[Any], practice: Practice
) -> None:
    reference = await a_booking(client)
    token = await form_token(client, "/staff/login")

    answers = await refusals(client, reference, token)

    for method, path, status, location, body in answers:
        assert status in (303, 404), (method, path, status)
        if status == 303:
            assert location.startswith("/staff/login"), (method, path, location)
        assert "Robin" not in body, (method, path)
        assert reference not in body, (method, path)
    assert await unchanged(reference)


async def test_a_signed_in_therapist_gets_404_from_every_admin_route(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    reference = await a_booking(client)
    login = await create_staff(therapist="ana")
    assert (await sign_in(client, login, at=clock())).status_code == 303
    token = await form_token(client, "/staff/account")

    answers = await refusals(client, reference, token)

    for method, path, status, _, body in answers:
        assert status == 404, (method, path, status)
        assert "Robin" not in body, (method, path)
    assert await unchanged(reference)


async def test_an_admin_without_a_second_factor_is_sent_to_enrol_one(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    reference = await a_booking(client)
    login = await create_staff(Role.ADMIN, totp=False)
    signed = await sign_in(client, login, at=clock())
    assert signed.headers["location"].startswith("/staff/two-factor/setup"), signed.headers
    token = await form_token(client, "/staff/two-factor/setup")

    answers = await refusals(client, reference, token)

    for method, path, status, location, body in answers:
        assert status == 303, (method, path, status)
        assert location.startswith("/staff/two-factor/setup"), (method, path, location)
        assert "Robin" not in body, (method, path)
    assert await unchanged(reference)
