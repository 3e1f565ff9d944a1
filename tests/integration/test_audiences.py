"""Every route sits in exactly one audience's router and answers with that audience's headers
(errors included); what holds a private link, or what someone typed, is private; every write
of a private audience is throttled."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.handlers import BaseRouteHandler
from litestar.testing import AsyncTestClient

from booking.core.settings import Settings
from booking.web.app import create_app
from booking.web.audiences import AUDIENCE, AUDIENCES, Audience
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock

PRIVATE = {
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-robots-tag": "noindex, nofollow",
}
PARAMETER = re.compile(r"\{(?P<name>\w+):(?P<type>\w+)\}")
# Not token-shaped: the private headers must come from the audience, not from the path's look.
SAMPLE = {"str": "nobody", "path": "nothing-here.css"}


def app() -> Litestar:
    return create_app(Settings.from_env())


def owners(handler: BaseRouteHandler) -> list[Any]:
    """The layers below the application that declare an audience for `handler`."""
    # The handler itself carries the merged `opt` of all its layers.
    return [layer for layer in handler.ownership_layers[1:-1] if AUDIENCE in (layer.opt or {})]


def routes(application: Litestar) -> Iterator[tuple[str, str, Audience]]:
    """(method, a concrete path, its audience) for every route the application answers."""
    by_name = {a.name: a for a in AUDIENCES}
    for route in application.routes:
        for handler in getattr(route, "route_handlers", []):
            path = PARAMETER.sub(lambda m: SAMPLE[m["type"]], route.path)
            for method in sorted(handler.http_methods):
                yield method, path, by_name[handler.opt[AUDIENCE]]


def test_every_route_belongs_to_exactly_one_audience_router() -> None:
    application = app()
    handlers = [h for r in application.routes for h in getattr(r, "route_handlers", [])]

    assert handlers
    for handler in handlers:
        (router,) = owners(handler)
        assert router.opt[AUDIENCE] in {a.name for a in AUDIENCES}, handler
        assert handler.opt[AUDIENCE] == router.opt[AUDIENCE]


@pytest.mark.parametrize(
    ("method", "path", "audience"),
    [
        ("GET", "/", "public-pages"),
        ("GET", "/therapists/nobody", "public-pages"),
        ("GET", "/times", "public-pages"),
        ("GET", "/static/site.css", "public-pages"),
        ("GET", "/api/v1/therapists", "public-api"),
        ("GET", "/api/v1/availability", "public-api"),
        ("GET", "/api/v1/intake/questionnaire", "public-api"),
        ("GET", "/book", "private-pages"),
        ("POST", "/book", "private-pages"),
        ("GET", "/manage/nobody", "private-pages"),
        ("GET", "/manage/nobody/reschedule", "private-pages"),
        ("GET", "/intake/nobody", "private-pages"),
        ("POST", "/api/v1/bookings", "private-api"),
        ("GET", "/api/v1/bookings/nobody", "private-api"),
        ("GET", "/api/v1/bookings/nobody/invite.ics", "private-api"),
        ("GET", "/api/v1/intake/nobody", "private-api"),
        ("GET", "/feeds/nobody.ics", "private-api"),
        ("GET", "/health/live", "operations"),
        ("GET", "/schema/openapi.json", "operations"),
        ("GET", "/staff/login", "staff"),
        ("POST", "/staff/logout", "staff"),
    ],
)
def test_each_part_of_the_site_answers_its_audience(method: str, path: str, audience: str) -> None:
    matched = app().asgi_router.handle_routing(path=path, method=method)

    assert matched[1].opt[AUDIENCE] == audience


async def test_every_route_answers_with_its_audiences_headers(
    database: Database, clock: FixedClock
) -> None:
    application = create_app(Settings.from_env(), database.engine, clock)
    checked = 0
    async with AsyncTestClient(application, base_url="http://testserver.local") as client:
        for method, path, audience in routes(application):
            for accept in ("text/html", "application/json"):
                response = await client.request(
                    method, path, headers={"Accept": accept}, follow_redirects=False
                )
                headers = response.headers
                where = (method, path, accept, response.status_code)
                assert headers["x-content-type-options"] == "nosniff", where
                assert headers["x-frame-options"] == "DENY", where
                assert headers["content-security-policy"].startswith("default-src 'self'"), where
                if audience.private:
                    assert {name: headers.get(name) for name in PRIVATE} == PRIVATE, where
                else:
                    assert headers["referrer-policy"] == "strict-origin-when-cross-origin", where
                    assert "no-store" not in headers.get("cache-control", ""), where
                    assert "x-robots-tag" not in headers, where
                checked += 1
    assert checked > 40


async def test_every_write_of_a_throttled_audience_is_throttled(
    database: Database, clock: FixedClock
) -> None:
    settings = dataclasses.replace(Settings.from_env(), rate_limit_per_minute=1)
    application = create_app(settings, database.engine, clock)
    # The staff side throttles its sign-in failures itself (booking.staff.sign_in), so an
    # office of therapists behind one address is not held to the public write limit.
    writes = [
        (path, a)
        for method, path, a in routes(application)
        if method == "POST" and a.throttled_writes
    ]
    async with AsyncTestClient(application, base_url="http://testserver.local") as client:
        first = await client.post(writes[0][0], json={})
        refused = [(path, (await client.post(path, json={})).status_code) for path, _ in writes]

    assert {a.name for _, a in writes} == {"private-api", "private-pages"}
    assert len(writes) >= 8
    assert first.status_code != 429
    assert refused == [(path, 429) for path, _ in writes]
