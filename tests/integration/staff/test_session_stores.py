"""Staff sessions behave the same in both stores: the database always, and Redis when
TEST_REDIS_URL names a server (on its DB 5, keys under a prefix of this test's own, removed
afterwards)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from redis.asyncio import Redis

from booking.core.settings import Settings
from booking.staff.principal import Role
from booking.staff.sessions import (
    DatabaseSessionStore,
    RedisSessionStore,
    Sessions,
    SessionStore,
    Stage,
)
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import Practice
from tests.staff_support import create_staff

SHARED = os.environ.get("TEST_REDIS_URL")
# The staff sessions' own database number on the shared server.
REDIS_URL = urlunsplit(urlsplit(SHARED)._replace(path="/5")) if SHARED else None
STORES = ["database"] + (["redis"] if REDIS_URL else [])


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, database: Database) -> AsyncIterator[SessionStore]:
    if request.param == "database":
        yield DatabaseSessionStore()
        return
    assert REDIS_URL is not None
    prefix = f"test-staff-session-{uuid.uuid4().hex}:"
    redis_store = RedisSessionStore(REDIS_URL, prefix=prefix)
    try:
        yield redis_store
    finally:
        await redis_store.close()
        cleanup = Redis.from_url(REDIS_URL)
        keys = [key async for key in cleanup.scan_iter(match=f"{prefix}*")]
        if keys:
            await cleanup.delete(*keys)
        await cleanup.aclose()


async def test_a_session_is_found_renewed_under_a_new_id_and_ended(
    store: SessionStore, practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana")
    sessions = Sessions(Settings.from_env(), store, clock)

    issued = await sessions.begin(login.account_id, Stage.PASSWORD)
    found = await sessions.find(issued.session_id)
    assert found is not None
    assert found.stage is Stage.PASSWORD
    renewed = await sessions.renew(found, Stage.SECOND_FACTOR)

    assert renewed.session_id != issued.session_id
    assert await sessions.find(issued.session_id) is None
    again = await sessions.find(renewed.session_id)
    assert again is not None
    assert again.stage is Stage.SECOND_FACTOR
    assert again.created_at == found.created_at  # the absolute timeout still counts from sign-in
    await sessions.end(again)
    assert await sessions.find(renewed.session_id) is None


async def test_idle_sessions_end_and_an_account_can_end_all_of_its_own(
    store: SessionStore, practice: Practice, clock: FixedClock
) -> None:
    login = await create_staff(therapist="ana")
    other = await create_staff(Role.ADMIN)
    sessions = Sessions(Settings.from_env(), store, clock)
    first = await sessions.begin(login.account_id, Stage.SECOND_FACTOR)
    second = await sessions.begin(login.account_id, Stage.SECOND_FACTOR)
    kept = await sessions.begin(other.account_id, Stage.SECOND_FACTOR)

    assert await sessions.end_all(login.account_id) == 2
    assert await sessions.find(first.session_id) is None
    assert await sessions.find(second.session_id) is None
    assert await sessions.find(kept.session_id) is not None
    clock.now += timedelta(minutes=15)
    assert await sessions.find(kept.session_id) is None
