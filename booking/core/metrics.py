"""Prometheus metrics: what the processes count, what the database says at scrape time, and
the small HTTP server that answers scrapes on a port of its own (never the public one).

Two kinds, chosen by where the truth lives:
- Events counted by the process that sees them (request latency, deliveries, hold expiries).
  Several processes count at once (`booking serve --workers N`, Dramatiq's worker processes,
  the embedded worker), so the serving command gives them one directory and prometheus-client's
  multiprocess mode, and its scrape adds them up. PROMETHEUS_MULTIPROC_DIR must be set before
  this module is imported in any of them: prometheus-client picks its storage on import.
- State read from the database when scraped (bookings by status, the outbox's backlog and its
  oldest due message): the same answer from any process, and right after a restart.

Labels hold only fixed words (route templates, statuses, outcomes): never a path, a token
or an address.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine
from piccolo.querystring import QueryString
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from booking.core.db import postgres_engine
from booking.core.settings import Settings
from booking.core.timezones import Clock, utc_now

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

log = logging.getLogger("booking.metrics")

REQUEST_SECONDS = Histogram(
    "booking_http_request_duration_seconds",
    "Time to answer a request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
DELIVERIES = Counter(
    "booking_outbox_deliveries",
    "Outbox messages a worker handled, by outcome (sent, skipped, pending: to be retried, "
    "failed: given up, taken: another delivery had it).",
    ["outcome"],
)
DELIVERY_FAILURES = Counter(
    "booking_outbox_delivery_failures",
    "Delivery attempts that did not send their message (retried or given up).",
)
DELIVERY_SECONDS = Histogram(
    "booking_outbox_delivery_duration_seconds",
    "Time a worker took to handle one outbox message.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
HOLD_EXPIRIES = Counter(
    "booking_hold_expiries",
    "Unpaid holds marked expired because their time ran out (by the sweep, or by a booking "
    "of the time they held), each counted once, after its transaction committed.",
)


def count_delivery(outcome: str, seconds: float) -> None:
    """One outbox message handled by a worker, with the status its row was left in."""
    DELIVERIES.labels(outcome).inc()
    DELIVERY_SECONDS.observe(seconds)
    if outcome in ("pending", "failed"):  # the attempt did not send it
        DELIVERY_FAILURES.inc()


def scrape_registry(database: Collector | None = None) -> CollectorRegistry:
    """The registry a scrape reads: every process's counts, and the database's state."""
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_VARIABLE):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:  # one process: its own counts
        for metric in (REQUEST_SECONDS, DELIVERIES, DELIVERY_FAILURES, DELIVERY_SECONDS):
            registry.register(metric)
        registry.register(HOLD_EXPIRIES)
    if database is not None:
        registry.register(database)
    return registry


def serve_metrics(host: str, port: int, registry: CollectorRegistry) -> None:
    """Answer scrapes of `registry` on host:port from a daemon thread (any path: `/metrics`)."""
    start_http_server(port, addr=host, registry=registry)


class DatabaseState(Collector):
    """Gauges read from the database at each scrape, on a connection of the scrape's own."""

    def __init__(self, engine: Any, clock: Clock = utc_now) -> None:
        self.engine = engine  # one without a pool: every scrape's loop is a new one
        self.clock = clock

    @classmethod
    def of(cls, settings: Settings) -> DatabaseState:
        """The state of the database `settings` name."""
        if settings.database_url:
            return cls(postgres_engine(settings.database_url))
        return cls(SQLiteEngine(path=str(settings.sqlite_path)))

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            bookings, messages, due, oldest = asyncio.run(self._read(self.clock()))
        except Exception as exc:  # the processes' counts are still worth a scrape
            log.warning("metrics: the database could not be read: %s", exc)
            yield GaugeMetricFamily(
                "booking_database_up", "Whether the scrape could read the database.", value=0
            )
            return
        yield GaugeMetricFamily(
            "booking_database_up", "Whether the scrape could read the database.", value=1
        )
        yield _by_label(
            "booking_bookings",
            "Bookings by status.",
            "status",
            ((r["status"], r["n"]) for r in bookings),
        )
        yield _by_label(
            "booking_outbox_messages",
            "Outbox messages by status (failed: given up, waiting for a re-drive).",
            "status",
            ((r["status"], r["n"]) for r in messages),
        )
        yield GaugeMetricFamily(
            "booking_outbox_due_messages",
            "Pending outbox messages whose time has come and that no worker has sent yet: the "
            "outbox's lag in messages.",
            value=due,
        )
        yield GaugeMetricFamily(
            "booking_outbox_oldest_due_age_seconds",
            "How long the oldest due pending message has been waiting (0: none waits).",
            value=oldest,
        )

    async def _read(self, now: datetime) -> tuple[list[Any], list[Any], int, float]:
        run = self.engine.run_querystring
        # One connection and one snapshot for the three answers.
        async with self.engine.transaction():
            bookings = await run(
                QueryString("SELECT status, COUNT(*) AS n FROM bookings GROUP BY status")
            )
            messages = await run(
                QueryString("SELECT status, COUNT(*) AS n FROM outbox_messages GROUP BY status")
            )
            # Due as the relay sees it (booking.notifications.outbox.claim_due): its time and
            # its next attempt have both come.
            due = await run(
                QueryString(
                    "SELECT COUNT(*) AS n, MIN(due_at) AS oldest FROM outbox_messages"
                    " WHERE status = 'pending' AND due_at <= {} AND next_attempt_at <= {}",
                    now,
                    now,
                )
            )
        oldest = _as_datetime(due[0]["oldest"]) if due else None
        age = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
        return bookings, messages, int(due[0]["n"]) if due else 0, age


def _by_label(
    name: str, documentation: str, label: str, rows: Iterable[tuple[str, int]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    for value, count in rows:
        family.add_metric([str(value)], int(count))
    return family


def _as_datetime(value: Any) -> datetime | None:
    """A timestamp as the driver returns it (asyncpg: a datetime; SQLite: Piccolo's text)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
