"""Booking tests: a client whose requests truly run at the same time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from booking.core.settings import Settings
from booking.web.app import create_app
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock


class InFlight:
    """An ASGI wrapper that counts requests being handled at the same moment."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.now = 0
        self.most = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


@dataclass
class ConcurrentClient:
    http: httpx.AsyncClient
    in_flight: InFlight


@pytest.fixture
async def concurrent(database: Database, clock: FixedClock) -> AsyncIterator[ConcurrentClient]:
    """Requests as tasks on the app itself, on the test's loop, so they truly interleave.

    (AsyncTestClient hands each request to its portal and waits: its requests never overlap.)
    """
    app = create_app(Settings.from_env(), database.engine, clock)
    counted = InFlight(app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=counted), base_url="http://testserver.local"
        ) as http,
    ):
        yield ConcurrentClient(http, counted)
