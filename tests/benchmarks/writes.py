"""POST /api/v1/bookings in-process: bookings per second on distinct slots, and many requests
racing for one slot.

The practice: ten therapists (America/Toronto) working 06:00-22:00 every day, offering one
15-minute type with a 15-minute interval, no buffer and no notice, so every offered slot is a
booking that overlaps no other. The slots come from GET /api/v1/availability (therapist=any)
first; each POST is a valid body from `tests.factories.booking_request`. The same seeding
serves the invitations benchmark (the therapists have no email address, so a booking queues
exactly two invitations, one per partner).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import time
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from booking.core.settings import Settings
from tests.benchmarks.asgi_client import ASGIApp, Request, Response, call, post_json
from tests.benchmarks.profiling import Profile
from tests.benchmarks.stats import Summary, summarize
from tests.factories import booking_request, make_therapist, make_type

TYPE_SLUG = "quick"
THERAPISTS = 10
ZONE = "America/Toronto"
HOURS = ("06:00", "22:00")  # every day of the week: 64 slots a day each, 640 in all
WINDOW_DAYS = 21
# The write limit is per client address and every in-process request comes from one.
RATE_LIMIT = "10000000"
COUPLES = itertools.count()
BOOKINGS = "/api/v1/bookings"

CONCURRENCY = (1, 8)
BOOKINGS_PER_RUN = 600
WARMUP = 10
CONTENDERS = 50
ROUNDS = 10
PROFILE_CALLS = 40
OVER = (0.1, 1.0)  # latency thresholds counted per run
SEED = 20270108


@dataclass(frozen=True, slots=True)
class Slot:
    start: str  # RFC 3339 with offset, as the availability answer gives it
    therapist: str


@dataclass
class Run:
    """One timed run of POSTs at a fixed concurrency."""

    concurrency: int
    summary: Summary
    statuses: dict[str, int]  # "201", "409 slot_unavailable", ... -> count
    maximum: float  # the slowest answer, seconds
    over: dict[float, int]  # answers slower than each of OVER (seconds)
    waits: Waits | None = None


@dataclass
class Waits:
    """Inside the booking transactions of a run (seconds per booking): getting the write
    transaction (`write_transaction` entered: BEGIN IMMEDIATE on SQLite, a pooled connection
    and BEGIN on PostgreSQL), getting the therapist's advisory lock
    (`lock(LockSpace.THERAPIST, …)`, a no-op on SQLite), and holding the transaction (entered
    to committed)."""

    begin: list[float] = field(default_factory=list)
    lock: list[float] = field(default_factory=list)
    held: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what could not be wrapped


@dataclass
class Round:
    """One round of CONTENDERS simultaneous POSTs for the same slot."""

    wall: float  # seconds until the last of them was answered
    winner: float  # seconds until the 201 was answered
    statuses: dict[str, int]

    @property
    def ok(self) -> bool:
        return self.statuses == {"201": 1, "409 slot_unavailable": CONTENDERS - 1}


@dataclass
class WriteResult:
    backend: str
    offered: int = 0  # open slots in the window before any booking
    runs: list[Run] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    profiles: list[Profile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # answers other than expected
    error: str | None = None


def settings(**extra: str) -> Settings:
    """The service's settings from this process's environment, with the write and booking
    limits out of the way (every body books from one address) and `extra` on top."""
    limits = {
        name: RATE_LIMIT
        for name in (
            "RATE_LIMIT_PER_MINUTE",
            "BOOKING_LIMIT_PER_EMAIL",
            "HOLD_LIMIT_PER_ADDRESS",
            "BOOKING_LIMIT_PER_ADDRESS_PER_DAY",
        )
    }
    return Settings.from_env({**os.environ, **limits, **extra})


async def seed_practice() -> list[str]:
    """The type and the ten therapists (no email addresses); returns their slugs."""
    type_id = await make_type(
        TYPE_SLUG,
        duration_minutes=15,
        slot_interval_minutes=15,
        buffer_after_minutes=0,
        min_notice_minutes=0,
        horizon_days=60,
    )
    hours = tuple((weekday, *HOURS) for weekday in range(7))
    slugs = [f"w{i:02d}" for i in range(THERAPISTS)]
    for slug in slugs:
        await make_therapist(slug, timezone=ZONE, types=(type_id,), hours=hours)
    return slugs


async def open_slots(app: ASGIApp, first: date, days: int = WINDOW_DAYS) -> list[Slot]:
    """Every slot offered from `first` for `days` days, all therapists."""
    query = {
        "consultation_type": TYPE_SLUG,
        "therapist": "any",
        "start": first.isoformat(),
        "end": (first + timedelta(days=days - 1)).isoformat(),
    }
    response = await call(app, Request("/api/v1/availability", query))
    if response.status != 200:
        raise RuntimeError(f"availability answered {response.status}: {response.body[:300]!r}")
    slots = [Slot(s["start"], s["therapist"]) for s in response.json()["slots"]]
    if not slots:
        raise RuntimeError("availability offered no slots")
    return slots


def booking(slot: Slot) -> Request:
    """A booking of `slot` by a couple of its own, as a practice's traffic is: one couple's
    emails on every body would make each booking count and lock that couple's whole history
    (the per-email limit), which no real couple has."""
    couple = next(COUPLES)
    partners = [
        {"name": "Robin Park", "email": f"robin.{couple}@example.org"},
        {"name": "Sam Park", "email": f"sam.{couple}@example.org", "pronouns": "they/them"},
    ]
    body = booking_request(slot.start, therapist=slot.therapist, kind=TYPE_SLUG, partners=partners)
    return post_json(BOOKINGS, body)


def outcome(response: Response) -> str:
    """ "201", or the status and the error code ("409 slot_unavailable")."""
    if response.status == 201:
        return "201"
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = "?"
    return f"{response.status} {code}"


class SlotPool:
    """The offered slots in a fixed random order, handed out once each."""

    def __init__(self, slots: Sequence[Slot], seed: int = SEED) -> None:
        self.slots = list(slots)
        random.Random(seed).shuffle(self.slots)
        self.next = 0

    def take(self, count: int) -> list[Slot]:
        if self.next + count > len(self.slots):
            raise RuntimeError(f"only {len(self.slots) - self.next} unused slots left")
        taken = self.slots[self.next : self.next + count]
        self.next += count
        return taken


@dataclass
class Posted:
    """What a run of POSTs gave: per-request latency and answer, and when each was answered."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    answered_at: list[float] = field(default_factory=list)  # time.time() of each 201
    references: list[str] = field(default_factory=list)
    first_problem: str | None = None
    wall: float = 0.0


async def post_all(
    app: ASGIApp, requests: Sequence[Request], concurrency: int, deadline: float | None = None
) -> Posted:
    """POST every request, `concurrency` at a time (asyncio tasks taking the next one as they
    finish); stops taking new ones after `deadline` (time.monotonic())."""
    posted = Posted()
    pending = iter(requests)

    async def worker() -> None:
        for request in pending:
            if deadline is not None and time.monotonic() > deadline:
                return
            t0 = time.perf_counter_ns()
            response = await call(app, request)
            posted.latencies.append((time.perf_counter_ns() - t0) / 1e9)
            result = outcome(response)
            posted.statuses[result] += 1
            if result == "201":
                posted.answered_at.append(time.time())
                posted.references.append(response.json()["reference"])
            elif posted.first_problem is None:
                posted.first_problem = f"{result}: {response.body[:300]!r}"

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    posted.wall = time.perf_counter() - started
    return posted


@contextmanager
def transaction_waits() -> Iterator[Waits]:
    """Times the booking transactions while the block runs, by wrapping the two functions of
    booking.bookings.create that begin them and take its locks (as phases.py wraps the
    availability steps; restored afterwards)."""
    from booking.bookings import create as services

    waits = Waits()
    begin = getattr(services, "write_transaction", None)
    lock = getattr(services, "lock", None)

    @asynccontextmanager
    async def write_transaction() -> AsyncIterator[None]:
        assert begin is not None
        t0 = time.perf_counter()
        async with begin():
            t1 = time.perf_counter()
            waits.begin.append(t1 - t0)
            yield
        waits.held.append(time.perf_counter() - t1)

    async def timed_lock(space: Any, key: int) -> None:
        assert lock is not None
        t0 = time.perf_counter()
        await lock(space, key)
        waits.lock.append(time.perf_counter() - t0)

    replaced: list[tuple[str, Callable[..., Any]]] = []
    for name, original, wrapper in (
        ("write_transaction", begin, write_transaction),
        ("lock", lock, timed_lock),
    ):
        if original is None:
            waits.missing.append(name)
            continue
        replaced.append((name, original))
        setattr(services, name, wrapper)
    try:
        yield waits
    finally:
        for name, original in replaced:
            setattr(services, name, original)


async def throughput(app: ASGIApp, pool: SlotPool, result: WriteResult, count: int) -> None:
    """Warm up, then `count` bookings on distinct slots at each concurrency."""
    await post_all(app, [booking(s) for s in pool.take(WARMUP)], 1)
    for concurrency in CONCURRENCY:
        requests = [booking(s) for s in pool.take(count)]
        with transaction_waits() as waits:
            posted = await post_all(app, requests, concurrency)
        result.runs.append(
            Run(
                concurrency,
                summarize(posted.latencies, posted.wall),
                dict(posted.statuses),
                max(posted.latencies),
                {t: sum(x > t for x in posted.latencies) for t in OVER},
                waits,
            )
        )
        if posted.statuses["201"] != count:
            result.problems.append(
                f"concurrency {concurrency}: {dict(posted.statuses)}; first other answer "
                f"{posted.first_problem}"
            )


async def contention(app: ASGIApp, pool: SlotPool, result: WriteResult) -> None:
    """ROUNDS rounds of CONTENDERS simultaneous POSTs for one fresh slot each."""

    async def one(request: Request, started: float) -> tuple[str, float]:
        answer = outcome(await call(app, request))
        return answer, time.perf_counter() - started

    for number, slot in enumerate(pool.take(ROUNDS), start=1):
        request = booking(slot)
        started = time.perf_counter()
        answers = await asyncio.gather(*(one(request, started) for _ in range(CONTENDERS)))
        wall = time.perf_counter() - started
        winner = min((t for a, t in answers if a == "201"), default=0.0)
        round_ = Round(wall, winner, dict(Counter(a for a, _ in answers)))
        result.rounds.append(round_)
        if not round_.ok:
            result.problems.append(f"round {number}: {round_.statuses}")


def describe_statuses(statuses: dict[str, int]) -> str:
    return ", ".join(f"{n} x {k}" for k, n in sorted(statuses.items()))


def first_day(now: datetime) -> date:
    """The day after `now` in the practice's zone."""
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(ZONE)).date() + timedelta(days=1)


class ErrorLog(logging.Handler):
    """Keeps the service's unhandled errors (logger booking.core.errors): their count, and the
    first one's exception and the frame it came from, for the report."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None and record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            frames = traceback.extract_tb(exc.__traceback__)[-1:]
            where = f" at {frames[0].filename}:{frames[0].lineno}" if frames else ""
            self.first = f"{type(exc).__name__}: {str(exc)[:300]}{where}"


@contextmanager
def service_errors() -> Iterator[ErrorLog]:
    """The service's unhandled errors while the block runs (they answer 500)."""
    handler = ErrorLog()
    logger = logging.getLogger("booking.core.errors")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
