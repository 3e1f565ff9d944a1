"""Every response carries the security headers, whatever produced it; everything behind a
private link is private, its 500s included; /schema offers no page that loads other origins."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient, Response

from booking.bookings.manage import BookingManagement
from booking.core.settings import get_settings
from booking.core.tokens import derive_token
from booking.intake.services import PartnerIntakeService
from booking.notifications.feeds import FeedService
from booking.scheduling.services import DirectoryService
from tests.factories import booking_request
from tests.integration.pages.conftest import HTML, assert_private
from tests.integration.practice import AT_10, Practice, manage_token

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
A_TOKEN = derive_token("x" * 40, "manage", "ZZZZ-ZZZZ", 0)
APOLOGY = "Something went wrong on our side. Please try again in a moment."


def assert_secured(response: Response) -> None:
    headers = response.headers
    assert headers["content-security-policy"] == CSP
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "camera=()" in headers["permissions-policy"]
    assert "server" not in headers


def assert_public(response: Response) -> None:
    assert_secured(response)
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "no-store" not in response.headers.get("cache-control", "")


async def test_pages_api_answers_static_files_and_errors_carry_the_headers(
    client: AsyncClient, practice: Practice
) -> None:
    page = await client.get("/", headers=HTML)
    answer = await client.get("/api/v1/therapists")
    style = await client.get("/static/site.css")
    script = await client.get("/static/times.js")
    missing_page = await client.get("/no-such-page", headers=HTML)
    missing = await client.get("/api/v1/no-such-thing")
    wrong_method = await client.delete("/api/v1/therapists")
    document = await client.get("/schema/openapi.json")

    assert [r.status_code for r in (page, answer, style, script, document)] == [200] * 5
    assert (missing_page.status_code, missing.status_code, wrong_method.status_code) == (
        404,
        404,
        405,
    )
    for response in (page, answer, style, script, missing_page, missing, wrong_method, document):
        assert_public(response)
    assert missing.json()["error"]["code"] == "not_found"


async def test_calendar_files_are_private_and_secured(
    client: AsyncClient, practice: Practice
) -> None:
    created = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert created.status_code == 201
    token = manage_token(created.json()["manage_url"])
    invite = await client.get(f"/api/v1/bookings/{token}/invite.ics")
    feed_url = await FeedService(get_settings()).url_for("ana")
    feed = await client.get(feed_url.removeprefix(get_settings().public_base_url))
    gone_feed = await client.get(f"/feeds/{A_TOKEN}.ics")

    assert (invite.status_code, feed.status_code, gone_feed.status_code) == (200, 200, 404)
    for response in (invite, feed, gone_feed):
        assert_secured(response)
        assert_private(response)


@pytest.mark.parametrize(
    ("service", "method", "path"),
    [
        (BookingManagement, "view", f"/manage/{A_TOKEN}"),
        (BookingManagement, "view", f"/api/v1/bookings/{A_TOKEN}"),
        (PartnerIntakeService, "view", f"/intake/{A_TOKEN}"),
        (PartnerIntakeService, "view", f"/api/v1/intake/{A_TOKEN}"),
    ],
)
async def test_a_500_behind_a_private_link_is_calm_and_private(
    client: AsyncClient,
    practice: Practice,
    monkeypatch: pytest.MonkeyPatch,
    service: type,
    method: str,
    path: str,
) -> None:
    async def fails(*args: object) -> None:
        raise RuntimeError("a fault in the service")

    monkeypatch.setattr(service, method, fails)

    page = await client.get(path, headers=HTML)
    answer = await client.get(path)

    assert page.status_code == answer.status_code == 500
    for response in (page, answer):
        assert_secured(response)
        assert_private(response)
    if path.startswith("/api/"):  # the API answers JSON to everyone
        assert page.headers["content-type"].startswith("application/json")
    else:
        assert page.headers["content-type"].startswith("text/html")
        assert "<h1>Something went wrong</h1>" in page.text
        assert APOLOGY in page.text
    assert answer.json() == {"error": {"code": "internal_error", "message": APOLOGY, "fields": []}}
    assert "a fault in the service" not in page.text + answer.text


async def test_a_500_on_a_public_page_is_secured_but_not_private(
    client: AsyncClient, practice: Practice, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def fails(*args: object) -> None:
        raise RuntimeError("a fault in the service")

    monkeypatch.setattr(DirectoryService, "therapists", fails)

    page = await client.get("/", headers=HTML)

    assert page.status_code == 500
    assert_public(page)
    assert APOLOGY in page.text


SCRIPT_FROM_ELSEWHERE = re.compile(r"""<script[^>]*\ssrc=["']?(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize(
    "path",
    [
        "/schema",
        "/schema/",
        "/schema/openapi.json",
        "/schema/swagger",
        "/schema/redoc",
        "/schema/elements",
        "/schema/rapidoc",
        "/schema/scalar",
    ],
)
async def test_the_schema_offers_no_page_loading_scripts_from_other_origins(
    client: AsyncClient, practice: Practice, path: str
) -> None:
    response = await client.get(path, headers=HTML)

    assert response.status_code in (200, 404)
    assert_secured(response)
    assert not SCRIPT_FROM_ELSEWHERE.search(response.text)
    assert "cdn" not in response.text.lower()
    if response.status_code == 200:  # what /schema serves is the document itself
        assert response.json()["openapi"].startswith("3.")
