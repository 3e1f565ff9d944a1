"""In production without Stripe keys: the service starts, a deposit type is listed with its
fee and deposit, and it is not bookable, with a message saying why."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.bookings.tables import Booking
from booking.core.settings import Settings
from booking.web.app import create_app
from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_9, AT_10, MONDAY, Practice

HTML = {"Accept": "text/html"}


@pytest.fixture
async def production(
    database: Database, clock: FixedClock, practice: Practice
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = dataclasses.replace(Settings.from_env(), env="production")
    assert not settings.takes_payments
    app = create_app(settings, database.engine, clock)
    async with AsyncTestClient(app, base_url="https://testserver.local") as client:
        client.follow_redirects = False
        yield client


async def test_the_service_starts_and_lists_the_deposit_type(
    production: AsyncTestClient[Any],
) -> None:
    assert (await production.get("/health/live")).status_code == 200
    types = {t["slug"]: t for t in (await production.get("/api/v1/consultation-types")).json()}
    assert types["paid"]["deposit"] == {"amount": 5000, "currency": "cad"}


async def test_the_api_refuses_to_hold_a_deposit_type_and_says_why(
    production: AsyncTestClient[Any],
) -> None:
    refused = await production.post("/api/v1/bookings", json=booking_request(AT_10, kind="paid"))
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "not_bookable_online"
    assert "online payment is not available" in error["message"]
    assert await Booking.count() == 0
    # A free consultation still books.
    free = await production.post("/api/v1/bookings", json=booking_request(AT_9))
    assert free.status_code == 201
    assert free.json()["status"] == "confirmed"
    assert free.json()["payment"] is None


async def test_the_pages_show_the_fee_and_no_booking_link(
    production: AsyncTestClient[Any],
) -> None:
    page = (
        await production.get(
            "/times", params={"type": "paid", "therapist": "ana", "start": MONDAY}, headers=HTML
        )
    ).text
    assert "deposit of $50.00 CAD" in page
    assert "Online payment is not available at the moment" in page
    assert "/book?" not in page
    form = await production.get(
        "/book",
        params={"type": "paid", "therapist": "ana", "start": AT_10, "tz": "America/Toronto"},
        headers=HTML,
    )
    assert form.status_code == 422
    assert "contact the practice" in form.text
