"""An app that delivers its messages, a real SMTP server, and real Dramatiq workers.

The broker suites run on the embedded in-memory broker always, and on Redis and RabbitMQ when
TEST_REDIS_URL and TEST_AMQP_URL name servers (CI sets both).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import dramatiq
import pytest
from litestar.testing import AsyncTestClient

from booking.core.settings import Settings
from booking.web.app import create_app
from booking.worker import OutboxWorker, make_broker
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.mailserver import MailServer, running_mail_server

REDIS_URL = os.environ.get("TEST_REDIS_URL")
AMQP_URL = os.environ.get("TEST_AMQP_URL")
BROKERS = ["embedded"] + (["redis"] if REDIS_URL else []) + (["rabbitmq"] if AMQP_URL else [])


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


def mail_settings(smtp: MailServer, **extra: str) -> Settings:
    return Settings.from_env(
        {
            **os.environ,
            "SMTP_URL": smtp.url,
            "OUTBOX_POLL_SECONDS": "0.05",
            "MAIL_FROM": "Harbour Couples Counselling <bookings@harbour.example>",
            "PUBLIC_BASE_URL": "https://book.harbour.example",
            **extra,
        }
    )


@dataclass
class Delivering:
    """A web app and the worker that delivers its outbox, on one broker."""

    client: AsyncTestClient[Any]
    smtp: MailServer
    settings: Settings
    broker_kind: str

    async def wait_for(self, count: int, within: float = 30.0) -> list[Any]:
        received = await asyncio.to_thread(self.smtp.wait_for, count, within)
        assert len(received) >= count, f"{len(received)} of {count} messages arrived"
        return received


def broker_url(kind: str) -> str | None:
    return {"embedded": None, "redis": REDIS_URL, "rabbitmq": AMQP_URL}[kind]


@pytest.fixture(params=BROKERS)
async def delivering(
    request: pytest.FixtureRequest, database: Database, clock: FixedClock, smtp: MailServer
) -> AsyncIterator[Delivering]:
    kind = request.param
    url = broker_url(kind)
    settings = mail_settings(
        smtp,
        BOOKING_EMBEDDED_WORKER="1" if url is None else "0",
        **({"BROKER_URL": url} if url else {}),
    )
    worker: dramatiq.Worker | None = None
    if url is not None:
        # A real Dramatiq worker on the real broker, with the outbox relay, in this process.
        broker = make_broker(url)
        broker.flush_all()
        broker.add_middleware(OutboxWorker(settings, clock, database.engine))
        worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
        worker.start()
    app = create_app(settings, database.engine, clock)
    try:
        async with AsyncTestClient(app, base_url="http://testserver.local") as client:
            client.follow_redirects = False
            yield Delivering(client, smtp, settings, kind)
    finally:
        if worker is not None:
            await asyncio.to_thread(worker.stop)
