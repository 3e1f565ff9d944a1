"""Many processes keep the promises: two `booking serve` and two `booking worker` processes
on one PostgreSQL database and one broker (Redis, and once RabbitMQ).

500 booking attempts over 50 open times, spread over both web ports, make exactly 50
bookings. In the middle of it one worker is SIGKILLed (its whole process group) and, on Redis,
the broker is restarted, losing every message it held; every confirmed booking's invitations
still reach the SMTP server, each Message-ID once.

What "once" means here: a row is marked sent after the server's 250, so a worker killed in
the few milliseconds between the two leaves a row the survivor sends again, with the same
Message-ID (derived from the row's key), which mail systems show once. The test kills at an
arbitrary moment, so such a resend may happen: it asserts that the Message-IDs received are
exactly one per outbox row, none missing and none foreign, and that no more than the killed
worker's delivery threads were resent (see tests/integration/notifications/faults for the
deterministic cases).

The processes read the real clock: the practice is open around the clock every day with no
notice period, and the bookings take the first open times from now on. The figures (attempts
per second, p50 and p99 over both ports) are printed for docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from booking.bookings.tables import Booking
from booking.notifications.messages import message_id_for
from tests.factories import booking_request, make_therapist, make_type
from tests.fixtures.databases import Database
from tests.integration.deployment.conftest import AMQP_URL
from tests.integration.notifications.faults.conftest import (
    RedisServer,
    WorkerProcess,
    all_sent,
    command_env,
    message_ids,
    outbox_when,
)
from tests.integration.test_serve import SECRET, serving
from tests.mailserver import MailServer, running_mail_server

ATTEMPTS = 500
THERAPISTS = ("ana", "ben", "chloe", "dev", "eli")
SLOTS_EACH = 10  # 50 open times in all
IN_FLIGHT = 16  # attempts under way at once, as many browsers would
WORKER_THREADS = 2
DOMAIN = "book.harbour.example"


@pytest.fixture
def mail() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def open_practice() -> None:
    """Five therapists, each open every day around the clock, offering 15-minute calls back
    to back: every open time is a slot of its own."""
    kind = await make_type(
        "consult",
        duration_minutes=15,
        slot_interval_minutes=15,
        buffer_after_minutes=0,
        min_notice_minutes=0,
        modes=["video", "phone"],
    )
    for slug in THERAPISTS:
        await make_therapist(
            slug,
            timezone="UTC",
            types=(kind,),
            hours=tuple((day, "00:00", "23:59") for day in range(7)),
            modes=["video", "phone"],
        )


async def first_open_times(base_url: str) -> list[tuple[str, str]]:
    """(therapist, start) of each therapist's first open times, at least five minutes ahead."""
    earliest = datetime.now(UTC) + timedelta(minutes=5)
    chosen: list[tuple[str, str]] = []
    async with httpx.AsyncClient(base_url=base_url) as http:
        for slug in THERAPISTS:
            response = await http.get(
                "/api/v1/availability",
                params={"consultation_type": "consult", "therapist": slug, "tz": "UTC"},
            )
            assert response.status_code == 200, response.text
            starts = [
                s["start"]
                for s in response.json()["slots"]
                if datetime.fromisoformat(s["start"]) >= earliest
            ]
            assert len(starts) >= SLOTS_EACH, response.text
            chosen.extend((slug, start) for start in starts[:SLOTS_EACH])
    return chosen


class Attempts:
    """The booking attempts, each timed from sending to the whole answer."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.elapsed = 0.0

    async def run(self, web: tuple[str, str], plan: list[tuple[str, str]]) -> None:
        gate = asyncio.Semaphore(IN_FLIGHT)
        limits = httpx.Limits(max_connections=IN_FLIGHT)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:

            async def attempt(number: int, therapist: str, start: str) -> None:
                async with gate:
                    began = time.perf_counter()
                    response = await http.post(
                        f"{web[number % 2]}/api/v1/bookings",
                        json=booking_request(start, therapist=therapist),
                    )
                    self.latencies.append(time.perf_counter() - began)
                    self.answers.append((response.status_code, response.json()))

            began = time.perf_counter()
            await asyncio.gather(*(attempt(n, *slot) for n, slot in enumerate(plan)))
            self.elapsed = time.perf_counter() - began

    def figures(self) -> str:
        ordered = sorted(self.latencies)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]
        return (
            f"{len(ordered)} attempts in {self.elapsed:.1f} s: "
            f"{len(ordered) / self.elapsed:.0f} attempts/s, "
            f"p50 {statistics.median(ordered) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
        )


async def outbox_keys() -> list[str]:
    from booking.notifications.tables import OutboxMessage

    rows = await OutboxMessage.select(OutboxMessage.dedupe_key)
    return [row["dedupe_key"] for row in rows]


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
async def test_many_processes_book_each_slot_once_and_send_each_invitation_once(
    broker: str,
    deployment_postgres: Database,
    mail: MailServer,
    own_redis: RedisServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given two web processes and two workers on one database and one broker.
    await open_practice()
    broker_url = own_redis.url if broker == "redis" else AMQP_URL
    assert broker_url is not None
    data_dir = tmp_path / "data"
    shared = {
        "BROKER_URL": broker_url,
        "SMTP_URL": mail.url,
        "PUBLIC_BASE_URL": f"https://{DOMAIN}",
        "MAIL_FROM": f"Harbour Couples Counselling <bookings@{DOMAIN}>",
        "BOOKING_SECRET_KEY": SECRET,
        "REMINDER_HOURS": "0",
        "OUTBOX_POLL_SECONDS": "0.05",
        "OUTBOX_LEASE_SECONDS": "5",  # longer than any send here, even on a loaded machine
    }
    worker_env = command_env(deployment_postgres, data_dir, **shared, LOG_LEVEL="INFO")
    workers = [WorkerProcess(worker_env, tmp_path / f"worker-{n}.log") for n in (1, 2)]
    try:
        async with AsyncExitStack() as stack:
            web = (
                await stack.enter_async_context(serving(deployment_postgres, data_dir, **shared)),
                await stack.enter_async_context(serving(deployment_postgres, data_dir, **shared)),
            )
            slots = await first_open_times(web[0])
            plan = [slots[n % len(slots)] for n in range(ATTEMPTS)]
            random.Random(50).shuffle(plan)

            # When 500 attempts run over both ports, and mid-way a worker dies (and Redis
            # restarts, empty).
            attempts = Attempts()
            began = time.perf_counter()
            booking = asyncio.create_task(attempts.run(web, plan))
            await asyncio.to_thread(mail.wait_for, 10, 60)
            assert not booking.done(), "the faults were meant for the middle of the run"
            workers[0].kill()
            if broker == "redis":
                await asyncio.to_thread(own_redis.stop)
                await asyncio.to_thread(own_redis.start)
            await booking

            def delivered(rows: list[dict[str, Any]]) -> bool:
                workers[1].assert_running()
                return len(rows) == 2 * len(slots) and all_sent(rows)

            rows = await outbox_when(delivered, within=90, kind=None)
            drained = time.perf_counter() - began
    finally:
        for worker in workers:
            worker.stop()

    # Then exactly one booking per open time, and 409 for every other attempt.
    statuses = Counter(status for status, _ in attempts.answers)
    assert statuses == {201: len(slots), 409: ATTEMPTS - len(slots)}, statuses
    refusals = Counter(body["error"]["code"] for status, body in attempts.answers if status == 409)
    assert set(refusals) == {"slot_unavailable"}, refusals
    booked = await Booking.select(Booking.therapist.slug, Booking.starts_at)
    assert len(booked) == len(slots)
    assert len({(b["therapist.slug"], b["starts_at"]) for b in booked}) == len(slots)

    # And each invitation's Message-ID reached the mail server; none is missing or foreign.
    expected = {message_id_for(key, DOMAIN) for key in await outbox_keys()}
    assert len(expected) == len(rows) == 2 * len(slots)
    received = message_ids(mail.received)
    assert set(received) == expected, workers[1].output()
    resent = sum(received.values()) - len(expected)
    assert resent <= WORKER_THREADS, received.most_common(3)

    with capsys.disabled():
        print(
            f"\nmany processes ({broker}): {attempts.figures()}; all {len(rows)} invitations "
            f"sent {drained:.1f} s after the first attempt, {resent} resent"
        )
