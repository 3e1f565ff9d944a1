"""An app per test on its database, with a clock the test controls.

The client is httpx's ASGI transport with the app's lifespan entered on the test's own event
loop. Litestar's AsyncTestClient runs the app on a separate portal loop, and an asyncpg pool
belongs to the loop that opened it: the test's factories and the app's requests must share one
(docs/decisions.md, "Integration tests share one event loop").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from booking.app import create_app
from booking.settings import Settings
from tests.fixtures.databases import Database

# A Wednesday, mid-morning in Toronto; far from any clock change.
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


class FixedClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
async def client(database: Database, clock: FixedClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings.from_env(), database.engine, clock)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as test_client,
    ):
        yield test_client
