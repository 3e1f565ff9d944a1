"""The broker goes away: bookings go on, readiness says so, and the outbox keeps every message
until the broker is back.

The broker is a redis-server of the test's own (stopped and started again on its port, losing
whatever it held, as a crashed broker host would). The worker is a real Dramatiq worker with
the outbox relay, in this process, on the test's fixed clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.core.settings import Settings
from booking.notifications.messages import message_id_for
from booking.web.app import create_app
from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.notifications.conftest import mail_settings
from tests.integration.notifications.faults.conftest import (
    LogRecords,
    RedisServer,
    all_sent,
    dramatiq_worker,
    message_ids,
    outbox_rows,
    outbox_when,
    statuses,
)
from tests.integration.practice import AT_9, AT_10, Practice
from tests.mailserver import MailServer

UNREACHABLE = "broker unreachable"


@pytest.fixture
def settings(smtp: MailServer, redis_server: RedisServer) -> Settings:
    return mail_settings(smtp, BROKER_URL=redis_server.url, BOOKING_EMBEDDED_WORKER="0")


@pytest.fixture
async def client(
    settings: Settings, database: Database, clock: FixedClock
) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(settings, database.engine, clock)
    async with AsyncTestClient(app, base_url="http://testserver.local") as client:
        yield client


async def book_two(client: AsyncTestClient[Any]) -> None:
    for start in (AT_9, AT_10):
        response = await client.post("/api/v1/bookings", json=booking_request(start))
        assert response.status_code == 201, response.text


async def readiness(client: AsyncTestClient[Any]) -> tuple[int, dict[str, Any]]:
    response = await client.get("/health/ready")
    return response.status_code, dict(response.json())


async def assert_all_delivered_once(smtp: MailServer, settings: Settings, count: int) -> None:
    received = await asyncio.to_thread(smtp.wait_for, count)
    assert len(received) >= count, f"{len(received)} of {count} messages arrived"
    rows = await outbox_when(all_sent)
    assert len(rows) == count
    expected = {message_id_for(r["dedupe_key"], settings.domain) for r in rows}
    assert message_ids(smtp.received) == dict.fromkeys(expected, 1)


async def test_bookings_go_on_while_the_broker_is_down_and_their_invitations_follow(
    client: AsyncTestClient[Any],
    settings: Settings,
    database: Database,
    clock: FixedClock,
    smtp: MailServer,
    practice: Practice,
    redis_server: RedisServer,
) -> None:
    redis_server.stop()

    await book_two(client)

    assert await readiness(client) == (
        200,
        {"status": "ok", "database": "ok", "migrations": "ok", "broker": "unreachable"},
    )
    rows = await outbox_rows()
    assert statuses(rows) == {"pending": 4}
    assert all(r["attempts"] == 0 and r["lease_until"] is None for r in rows)

    redis_server.start()
    async with dramatiq_worker(settings, clock, database):
        await assert_all_delivered_once(smtp, settings, 4)
        status, body = await readiness(client)
        assert (status, body["broker"]) == (200, "ok")


async def test_a_running_worker_keeps_the_messages_through_the_outage_then_delivers(
    client: AsyncTestClient[Any],
    settings: Settings,
    database: Database,
    clock: FixedClock,
    smtp: MailServer,
    practice: Practice,
    redis_server: RedisServer,
    relay_log: LogRecords,
) -> None:
    redis_server.stop()
    async with dramatiq_worker(settings, clock, database):
        await book_two(client)

        # The relay claimed the rows, failed to hand them over, and gave them back.
        tried = await asyncio.to_thread(relay_log.wait_for, UNREACHABLE)
        assert tried, [r.getMessage() for r in relay_log.records]
        rows = await outbox_rows()
        assert statuses(rows) == {"pending": 4}
        assert all(r["attempts"] == 0 for r in rows)
        assert smtp.attempts == 0
        status, body = await readiness(client)
        assert (status, body["broker"]) == (200, "unreachable")

        redis_server.start()

        await assert_all_delivered_once(smtp, settings, 4)
        status, body = await readiness(client)
        assert (status, body["broker"]) == (200, "ok")
