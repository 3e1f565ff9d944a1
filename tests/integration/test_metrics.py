"""What a scrape reports, read in process: the database's state at scrape time (bookings by
status, the outbox's due messages and the age of the oldest) and the sweeper's hold expiries."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from booking.bookings.holds import sweep_expired_holds
from booking.core.db import postgres_engine
from booking.core.metrics import DatabaseState, scrape_registry
from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, AT_11, Practice


def scrape(database: Database, clock: FixedClock) -> dict[tuple[str, tuple[Any, ...]], float]:
    """One scrape as the metrics port answers it (from its own thread), each sample keyed by
    name and labels."""
    engine: Any = (
        postgres_engine(database.url) if database.url else SQLiteEngine(path=database.sqlite_path)
    )
    text = generate_latest(scrape_registry(DatabaseState(engine, lambda: clock.now))).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_scrape_reads_bookings_and_the_outbox_backlog_from_the_database(
    client: Any, database: Database, practice: Practice, clock: FixedClock
) -> None:
    booked = await client.post("/api/v1/bookings", json=booking_request(AT_11))
    held = await client.post("/api/v1/bookings", json=booking_request(AT_10, kind="paid"))
    assert booked.status_code == held.status_code == 201

    at_once = await asyncio.to_thread(scrape, database, clock)
    clock.now += timedelta(minutes=15)  # no worker runs here: the invitations wait
    later = await asyncio.to_thread(scrape, database, clock)

    assert at_once[("booking_database_up", ())] == 1
    assert at_once[("booking_bookings", (("status", "confirmed"),))] == 1
    assert at_once[("booking_bookings", (("status", "pending_payment"),))] == 1
    # Its two invitations are due; its two reminders wait for their own time.
    assert at_once[("booking_outbox_messages", (("status", "pending"),))] == 4
    assert at_once[("booking_outbox_due_messages", ())] == 2
    assert at_once[("booking_outbox_oldest_due_age_seconds", ())] == 0
    assert later[("booking_outbox_oldest_due_age_seconds", ())] == 15 * 60


async def test_the_sweeper_counts_the_holds_it_expires(
    client: Any, database: Database, practice: Practice, clock: FixedClock
) -> None:
    held = await client.post("/api/v1/bookings", json=booking_request(AT_10, kind="paid"))
    assert held.status_code == 201
    before = REGISTRY.get_sample_value("booking_hold_expiries_total") or 0

    clock.now += timedelta(minutes=15)
    assert await sweep_expired_holds(clock.now) == 1
    after = await asyncio.to_thread(scrape, database, clock)

    assert after[("booking_hold_expiries_total", ())] == before + 1
    assert after[("booking_bookings", (("status", "expired"),))] == 1
    assert ("booking_bookings", (("status", "pending_payment"),)) not in after


def test_a_scrape_without_its_database_still_answers_and_says_so(tmp_path: Path) -> None:
    missing = SQLiteEngine(path=str(tmp_path / "absent" / "booking.sqlite3"))
    text = generate_latest(scrape_registry(DatabaseState(missing))).decode()

    assert "booking_database_up 0.0" in text
    assert "booking_http_request_duration_seconds" in text  # the processes' counts still come
    assert "booking_bookings" not in text
