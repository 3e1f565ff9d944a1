"""Dramatiq: the broker by BROKER_URL, the delivery actor, and the outbox relay.

- No BROKER_URL: an in-memory broker and an in-process worker, started with the web server.
- `redis://`: RedisBroker. `amqp://`: RabbitmqBroker with publisher confirms.

The relay claims due outbox rows with a lease and hands their ids to the broker; the actor
delivers one row. The outbox alone owns retries, so the actor runs with Dramatiq's retries off.
Actors are async and run on the AsyncIO middleware's own event loop, which opens its own
database pool (booking.core.db.LoopLocalPostgresEngine).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, Middleware
from piccolo.engine.postgres import PostgresEngine

from booking.core import metrics
from booking.core.db import LoopLocalPostgresEngine, close_pool, make_engine, open_pool
from booking.core.logs import REQUEST_ID, acceptable_request_id
from booking.core.settings import Settings
from booking.core.timezones import Clock, utc_now
from booking.intake.retention import purge_daily
from booking.notifications import outbox
from booking.notifications.delivery import Deliverer
from booking.notifications.transport import transport_for
from booking.payments.assembly import PaymentParts, payment_parts
from booking.payments.reconcile import reconcile_forever
from booking.piccolo_app import use_engine

log = logging.getLogger("booking.outbox")

QUEUE = "notifications"
# How long a claimed row stays with the worker that claimed it (OUTBOX_LEASE_SECONDS).
LEASE = timedelta(minutes=5)
BATCH = 100
# How long a delivery may take before Dramatiq interrupts it (SMTP timeouts are shorter).
TIME_LIMIT_MS = 3 * 60 * 1000
# The message option carrying the id of the request that wrote the row (NameTheRequest).
REQUEST_OPTION = "request_id"


@dataclass
class Runtime:
    """What the actor needs in this process: set by the worker middleware or the embedded
    setup before any message is processed."""

    deliverer: Deliverer | None = None


RUNTIME = Runtime()


async def deliver_message(outbox_id: int) -> None:
    """Deliver one outbox row (idempotent: a row already done is left alone)."""
    if RUNTIME.deliverer is None:
        raise RuntimeError("the notifications runtime is not configured in this process")
    started = time.perf_counter()
    outcome = await RUNTIME.deliverer.deliver(outbox_id)
    seconds = time.perf_counter() - started
    metrics.count_delivery(outcome, seconds)
    # The delivery's line: the row, what became of it, and (in JSON) the request that wrote it.
    log.info("outbox message %s: %s in %.3f s", outbox_id, outcome, seconds)


def make_broker(url: str | None) -> dramatiq.Broker:
    """The broker BROKER_URL names, with async actor support, and the delivery actor declared."""
    broker: dramatiq.Broker
    if url is None:
        broker = StubBroker()
    elif urlsplit(url).scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=url)  # type: ignore[no-untyped-call]
    else:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    broker.add_middleware(AsyncIO())
    broker.add_middleware(NameTheRequest())
    declare_actor(broker)
    return broker


class NameTheRequest(Middleware):
    """Names, on every line logged while a message is processed, the request that wrote its
    outbox row (the message's `request_id` option; none for a row written outside a request).

    Set in the worker thread before the actor runs: the actor's coroutine, scheduled on the
    AsyncIO middleware's loop from this thread, runs in a copy of this thread's context.
    """

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        given = message.options.get(REQUEST_OPTION)
        REQUEST_ID.set(given if acceptable_request_id(given) else None)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        REQUEST_ID.set(None)  # the thread's next message may come from no request

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        REQUEST_ID.set(None)


def declare_actor(broker: dramatiq.Broker) -> dramatiq.Actor[[int], None]:
    """The delivery actor, bound to `broker` (one process may build several brokers)."""
    return dramatiq.Actor(
        deliver_message,
        broker=broker,
        actor_name="deliver_message",
        queue_name=QUEUE,
        priority=0,
        options={"max_retries": 0, "time_limit": TIME_LIMIT_MS},
    )


def enqueue(broker: dramatiq.Broker, outbox_id: int, request_id: str | None = None) -> None:
    """Hand one row to the broker, with the request that wrote it (blocking; raises when the
    broker is unreachable)."""
    broker.enqueue(
        dramatiq.Message(
            queue_name=QUEUE,
            actor_name="deliver_message",
            args=(outbox_id,),
            kwargs={},
            options={REQUEST_OPTION: request_id} if request_id else {},
        )
    )


async def relay_once(
    send: Callable[[outbox.Claimed], None],
    clock: Clock,
    batch: int = BATCH,
    lease: timedelta = LEASE,
) -> int:
    """Claim due rows and hand them to the broker; returns how many were handed over.

    If the broker refuses, the unsent rows are released at once for the next round (the
    bookings that caused them are safe in the database meanwhile).
    """
    claimed = await outbox.claim_due(clock(), lease, batch)
    for index, row in enumerate(claimed):
        try:
            await asyncio.to_thread(send, row)
        except Exception as exc:  # any broker failure: keep the rows for later
            await outbox.release([r.id for r in claimed[index:]])
            log.warning("broker unreachable, %s message(s) wait: %s", len(claimed) - index, exc)
            raise BrokerUnavailable(str(exc)) from exc
    return len(claimed)


class BrokerUnavailable(Exception):
    pass


async def relay_forever(
    send: Callable[[outbox.Claimed], None],
    clock: Clock,
    poll_seconds: float,
    stop: threading.Event,
    lease: timedelta = LEASE,
) -> None:
    """Relay until `stop` is set: at once while there is work, every `poll_seconds` otherwise,
    backing off up to 30 s while the broker or the database is unreachable."""
    backoff = poll_seconds
    while not stop.is_set():
        try:
            handed = await relay_once(send, clock, lease=lease)
            backoff = poll_seconds
        except BrokerUnavailable:
            handed = 0
            backoff = min(backoff * 2, 30.0)
        except Exception:
            log.exception("outbox relay failed; trying again")
            handed = 0
            backoff = min(backoff * 2, 30.0)
        if handed < BATCH:
            await asyncio.to_thread(stop.wait, backoff)


class OutboxWorker(Middleware):
    """Runs inside each Dramatiq worker process: configures the database and the deliverer,
    and runs the outbox relay and the daily intake purge in a thread of their own."""

    def __init__(self, settings: Settings, clock: Clock = utc_now, engine: Any = None) -> None:
        self.settings = settings
        self.clock = clock
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.payments: PaymentParts | None = None
        # The web process's own engine in embedded mode; a worker process makes its own.
        self.engine: Any = engine

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.engine is None:
            self.engine = make_engine(self.settings)
            use_engine(self.engine)
        transport = transport_for(self.settings.smtp_url, self.settings.mail_directory)
        # Refunds and intent cancellations are outbox rows too; the emails say what became
        # of a deposit.
        self.payments = payment_parts(self.settings, self.clock)
        RUNTIME.deliverer = Deliverer(
            self.settings,
            transport,
            self.clock,
            payment_work=self.payments.work,
            deposit_outcomes=self.payments.wording,
        )
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            loop_thread.run_coroutine(open_pool(self.engine))
        self.stop.clear()
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self._relay(broker)), name="outbox-relay", daemon=True
        )
        self.thread.start()

    async def _relay(self, broker: dramatiq.Broker) -> None:
        await open_pool(self.engine)
        # The daily retention purge shares the relay's loop and pool (idempotent, so every
        # worker may run it).
        purge = asyncio.create_task(
            purge_daily(self.clock, self.settings.intake_retention_days, self.stop)
        )
        reconciler = self.payments.reconciler if self.payments is not None else None
        reconcile = (
            asyncio.create_task(reconcile_forever(reconciler, self.stop))
            if reconciler is not None
            else None
        )
        try:
            await relay_forever(
                lambda row: enqueue(broker, row.id, row.request_id),
                self.clock,
                self.settings.outbox_poll_seconds,
                self.stop,
                timedelta(seconds=self.settings.outbox_lease_seconds),
            )
        finally:
            await purge
            if reconcile is not None:
                await reconcile
            await close_pool(self.engine)

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=30)
        loop_thread = get_event_loop_thread()
        if loop_thread is not None and self.engine is not None:
            loop_thread.run_coroutine(close_pool(self.engine))


def worker_broker(settings: Settings, clock: Clock = utc_now) -> dramatiq.Broker:
    """The broker of a `booking worker` process, with the outbox middleware."""
    broker = make_broker(settings.broker_url)
    broker.add_middleware(OutboxWorker(settings, clock))
    dramatiq.set_broker(broker)
    return broker


class EmbeddedWorker:
    """The in-process worker of a web server without BROKER_URL: an in-memory broker, worker
    threads, and the relay; made durable by the outbox (a restart re-drives unsent rows)."""

    def __init__(self, settings: Settings, engine: Any, clock: Clock = utc_now) -> None:
        if isinstance(engine, PostgresEngine) and not isinstance(engine, LoopLocalPostgresEngine):
            # The worker's threads run loops of their own; one shared pool would break them.
            raise TypeError("the in-process worker needs booking.core.db.postgres_engine(url)")
        self.broker = make_broker(None)
        self.broker.add_middleware(OutboxWorker(settings, clock, engine))
        self.worker = dramatiq.Worker(self.broker, worker_threads=2, worker_timeout=100)

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()


def broker_state(url: str | None) -> str:
    """ "embedded", "ok" or "unreachable" (blocking; at most about a second)."""
    if url is None:
        return "embedded"
    parts = urlsplit(url)
    try:
        if parts.scheme in ("redis", "rediss"):
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        else:
            port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
            socket.create_connection((parts.hostname or "localhost", port), timeout=1).close()
    except Exception:
        return "unreachable"
    return "ok"
