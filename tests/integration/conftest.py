"""An app per test on its database, with a clock the test controls.

Litestar's AsyncTestClient runs the app (its lifespan and requests) on a portal loop of its
own; the PostgreSQL engine keeps one pool per event loop, so the test's factories and the app
each use their own (docs/decisions.md, "One pool per event loop").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.core.settings import Settings
from booking.web.app import create_app
from tests.fixtures.databases import Database
from tests.integration.practice import Practice, make_practice

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
async def client(database: Database, clock: FixedClock) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(Settings.from_env(), database.engine, clock)
    async with AsyncTestClient(app, base_url="http://testserver.local") as test_client:
        # Redirects are part of what pages answer: tests look at them, not past them.
        test_client.follow_redirects = False
        yield test_client


@pytest.fixture
async def practice(database: Database) -> Practice:
    return await make_practice()
