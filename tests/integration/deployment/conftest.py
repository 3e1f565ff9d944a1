"""The service as an operator deploys it: many `booking` processes on PostgreSQL and a broker,
the deploy files in ops/, and backups that restore.

The many-process proof needs PostgreSQL (TEST_DATABASE_URL) and a redis-server of its own
(TEST_REDIS_SERVER), and for its RabbitMQ run TEST_AMQP_URL too; without them those tests are
deselected at collection, as the PostgreSQL suites are without TEST_DATABASE_URL.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from booking.core.db import close_pool, open_pool, postgres_engine
from booking.piccolo_app import use_engine
from tests.fixtures.databases import POSTGRES_URL, Database, _empty_postgres
from tests.integration.notifications.faults.conftest import REDIS_SERVER

AMQP_URL = os.environ.get("TEST_AMQP_URL") or None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the many-process runs whose servers are not configured."""

    def missing(item: pytest.Item) -> bool:
        if "deployment_postgres" not in getattr(item, "fixturenames", ()):
            return False
        broker = item.callspec.params.get("broker") if hasattr(item, "callspec") else None
        if POSTGRES_URL is None or REDIS_SERVER is None:
            return True
        return broker == "rabbitmq" and AMQP_URL is None

    deselected = [item for item in items if missing(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


@pytest.fixture
async def deployment_postgres(postgres_url: str) -> AsyncIterator[Database]:
    """The session's PostgreSQL database, emptied, with a pool on the test's loop."""
    engine = postgres_engine(postgres_url)
    use_engine(engine)
    await _empty_postgres(postgres_url)
    await open_pool(engine)
    try:
        yield Database("postgres", engine, postgres_url)
    finally:
        await close_pool(engine)
