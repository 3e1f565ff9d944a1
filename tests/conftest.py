"""Test configuration: the environment is set before the service is imported.

The data directory is prepared by the init step (`booking init` does the same), as the service
reads its development secrets and never writes them. Database suites run on SQLite always and
on PostgreSQL when TEST_DATABASE_URL names a server (CI sets it). Each test gets an empty,
fully migrated database built by the real migrations.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_DATA_DIR = tempfile.mkdtemp(prefix="booking-tests-")
os.environ["BOOKING_ENV"] = "test"
os.environ["BOOKING_DATA_DIR"] = _DATA_DIR
# Tests send many writes from one address; the rate limit has its own test.
os.environ["RATE_LIMIT_PER_MINUTE"] = "100000"
# Likewise many bookings with one couple's emails; the booking limits have their own tests.
os.environ["BOOKING_LIMIT_PER_EMAIL"] = "100000"
os.environ["HOLD_LIMIT_PER_ADDRESS"] = "100000"
os.environ["BOOKING_LIMIT_PER_ADDRESS_PER_DAY"] = "100000"
os.environ.pop("TRUSTED_PROXIES", None)
os.environ.pop("RATE_LIMIT_REDIS_URL", None)
# Tests expire holds through the clock they control, not a background loop.
os.environ["HOLD_SWEEP_SECONDS"] = "0"
# Suites that deliver messages start their own workers.
os.environ["BOOKING_EMBEDDED_WORKER"] = "0"
os.environ.pop("DATABASE_URL", None)

pytest_plugins = ["tests.fixtures.databases"]


def pytest_sessionstart(session: pytest.Session) -> None:
    from booking.core.settings import initialise_from_env

    initialise_from_env()


@pytest.fixture
def initialised(tmp_path: Path) -> Path:
    """`tmp_path` after the init step: a data directory holding its development secrets."""
    from booking.core.datadir import initialise

    initialise(tmp_path)
    return tmp_path
