"""The write rate limit's counter, on the database always and on Redis when TEST_REDIS_URL
names a server (keys under a prefix of the test's own), and what a refused page looks like."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from redis.asyncio import Redis

from booking.core.ratelimit import (
    DatabaseRateLimitStore,
    RateLimitHit,
    RateLimitStore,
    RedisRateLimitStore,
)
from booking.core.settings import Settings
from booking.web.app import create_app
from tests.asgi import asgi_transport
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.pages.conftest import HTML, booking_form
from tests.integration.practice import AT_9, AT_10, Practice

REDIS_URL = os.environ.get("TEST_REDIS_URL")
STORES = ["database"] + (["redis"] if REDIS_URL else [])
WINDOW = 1_796_212_800  # a minute's first second


@pytest.fixture(params=STORES)
async def store(
    request: pytest.FixtureRequest, database: Database
) -> AsyncIterator[RateLimitStore]:
    """The counter on the test's database, or on Redis (which needs no database)."""
    if request.param == "database":
        yield DatabaseRateLimitStore()
        return
    assert REDIS_URL is not None
    prefix = f"test-rate-limit-{uuid.uuid4().hex}:"
    redis_store = RedisRateLimitStore(REDIS_URL, prefix=prefix)
    try:
        yield redis_store
    finally:
        await redis_store.close()
        cleanup = Redis.from_url(REDIS_URL)
        keys = [key async for key in cleanup.scan_iter(match=f"{prefix}*")]
        if keys:
            await cleanup.delete(*keys)
        await cleanup.aclose()


async def test_concurrent_hits_in_one_window_each_get_their_own_count(
    store: RateLimitStore,
) -> None:
    counts = await asyncio.gather(*(store.hit("bucket-a", WINDOW) for _ in range(30)))

    assert sorted(counts) == list(range(1, 31))


async def test_each_address_and_each_window_is_counted_apart(store: RateLimitStore) -> None:
    await store.hit("bucket-a", WINDOW)
    await store.hit("bucket-a", WINDOW)

    assert await store.hit("bucket-b", WINDOW) == 1
    assert await store.hit("bucket-a", WINDOW) == 3
    assert await store.hit("bucket-a", WINDOW + 60) == 1


async def test_finished_windows_are_forgotten(store: RateLimitStore) -> None:
    await store.hit("bucket-a", WINDOW)
    await store.hit("bucket-b", WINDOW)

    await store.hit("bucket-a", WINDOW + 60)

    if isinstance(store, DatabaseRateLimitStore):
        # The first count of a new window deletes the finished ones.
        rows = await RateLimitHit.select(RateLimitHit.window_start)
        assert rows == [{"window_start": WINDOW + 60}]
    else:
        assert isinstance(store, RedisRateLimitStore)
        client = Redis.from_url(store.url)
        try:
            ttls = [await client.ttl(f"{store.prefix}bucket-{b}:{WINDOW}") for b in "ab"]
        finally:
            await client.aclose()
        assert all(60 < ttl <= 120 for ttl in ttls), ttls


async def test_an_unreachable_redis_lets_writes_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RedisRateLimitStore("redis://127.0.0.1:1/0", prefix="unreachable:")
    with caplog.at_level(logging.WARNING, logger="booking.core.ratelimit"):
        counted = await store.hit("bucket-a", WINDOW)
    await store.close()

    assert counted == 0
    assert "rate limit store unreachable" in caplog.text


async def test_a_page_past_the_limit_is_a_calm_page_and_the_next_minute_is_fresh(
    database: Database, practice: Practice, clock: FixedClock
) -> None:
    settings = Settings.from_env({**os.environ, "RATE_LIMIT_PER_MINUTE": "1"})
    app = create_app(settings, database.engine, clock)
    transport = asgi_transport(app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://t") as web:
        booked = await web.post("/book", data=booking_form(AT_9, key="k1"), headers=HTML)
        refused = await web.post("/book", data=booking_form(AT_10, key="k2"), headers=HTML)
        clock.now += timedelta(minutes=1)
        next_minute = await web.post("/book", data=booking_form(AT_10, key="k2"), headers=HTML)

    assert booked.status_code == 303
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert "Please wait a minute and try again." in refused.text
    # The test's clock reads a whole minute: all of the window is left.
    assert refused.headers["retry-after"] == "60"
    assert next_minute.status_code == 303
