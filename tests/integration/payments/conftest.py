"""An app that takes deposits through the Stripe emulator and delivers its mail to a real SMTP
server (its in-process worker)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from booking.core.settings import Settings
from booking.web.app import create_app
from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.bookings.conftest import InFlight
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, manage_token
from tests.mailserver import MailServer, Received, running_mail_server
from tests.stripe_emulator import StripeEmulator, stripe_emulator

__all__ = ["stripe_emulator"]


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


@dataclass
class Paying:
    """A web app taking deposits through the emulator, its mail going to `smtp`."""

    client: AsyncTestClient[Any]
    emulator: StripeEmulator
    smtp: MailServer
    settings: Settings

    async def hold(self, start: str = AT_10) -> dict[str, Any]:
        """Book the paid type: the held booking's answer."""
        response = await self.client.post(
            "/api/v1/bookings", json=booking_request(start, kind="paid")
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def payment_page(self, held: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.get(payment_path(held))
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def save_card(self, page: dict[str, Any], number: str) -> dict[str, Any]:
        """What the page's Stripe.js does with the card the couple typed in."""
        return await asyncio.to_thread(self.emulator.save_card, page["setup_client_secret"], number)

    async def pay(self, held: dict[str, Any], setup_intent: str) -> Any:
        return await self.client.post(payment_path(held), json={"setup_intent": setup_intent})

    async def wait_for(self, count: int, within: float = 30.0) -> list[Received]:
        received = await asyncio.to_thread(self.smtp.wait_for, count, within)
        assert len(received) >= count, f"{len(received)} of {count} messages arrived"
        return received


def payment_path(held: dict[str, Any]) -> str:
    return f"/api/v1/bookings/{manage_token(held['manage_url'])}/payment"


def paying_settings(emulator: StripeEmulator, smtp: MailServer) -> Settings:
    base = Settings.from_env(
        {
            **os.environ,
            "SMTP_URL": smtp.url,
            "OUTBOX_POLL_SECONDS": "0.05",
            "BOOKING_EMBEDDED_WORKER": "1",
            "MAIL_FROM": "Harbour Couples Counselling <bookings@harbour.example>",
            "PUBLIC_BASE_URL": "https://book.harbour.example",
        }
    )
    return emulator.settings(base)


@pytest.fixture
async def paying(
    database: Database, clock: FixedClock, stripe_emulator: StripeEmulator, smtp: MailServer
) -> AsyncIterator[Paying]:
    settings = paying_settings(stripe_emulator, smtp)
    app = create_app(settings, database.engine, clock)
    async with AsyncTestClient(app, base_url="http://testserver.local") as client:
        client.follow_redirects = False
        yield Paying(client, stripe_emulator, smtp, settings)


@dataclass
class ConcurrentPaying:
    """Requests as tasks on the app itself, on the test's loop, so they truly interleave."""

    http: httpx.AsyncClient
    in_flight: InFlight
    emulator: StripeEmulator


@pytest.fixture
async def concurrent_paying(
    database: Database, clock: FixedClock, stripe_emulator: StripeEmulator, smtp: MailServer
) -> AsyncIterator[ConcurrentPaying]:
    app = create_app(paying_settings(stripe_emulator, smtp), database.engine, clock)
    counted = InFlight(app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=counted), base_url="http://testserver.local"
        ) as http,
    ):
        yield ConcurrentPaying(http, counted, stripe_emulator)
