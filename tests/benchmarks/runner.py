"""The measurements, in order: engine, API in-process, API over HTTP, history size.

Each section records its figures or its error and the run goes on to the next, so the report is
written whatever happens; every database and the server process are removed in `finally`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from litestar.di import Provide
from piccolo.engine.postgres import PostgresEngine

from booking.core.settings import Settings
from booking.core.timezones import utc_now
from booking.piccolo_app import use_engine
from booking.scheduling.engine import TherapistCalendar, compute_slots
from booking.web.app import create_app
from tests.benchmarks import (
    bench_engine,
    http_server,
    invitations,
    phases,
    plans,
    profiling,
    targets,
    writes,
)
from tests.benchmarks.asgi_client import ASGIApp, Request, call
from tests.benchmarks.databases import BenchDatabase, Databases
from tests.benchmarks.inprocess import Target, measure
from tests.benchmarks.roundtrips import capture_queries, count_round_trips
from tests.benchmarks.seed import Practice, seed_history, seed_practice
from tests.benchmarks.stats import Summary

# The in-process clock: a Friday, 10:00 in Toronto, far from a clock change. The window is the
# 28 days from the next day.
FIXED_NOW = datetime(2027, 1, 8, 15, 0, tzinfo=UTC)
ONE = "t00"  # the therapist of the one-therapist request (Toronto, no lunch break)
ENDPOINTS = ("live", "day", "one", "any")
AVAILABILITY = ("day", "one", "any")
HISTORY_SIZES = (100, 100_000)

# In-process budgets: (at most this many timed calls, or about this many seconds).
INPROCESS_BUDGET = {
    "live": (2000, 2.0),
    "day": (2000, 3.0),
    "one": (1000, 4.0),
    "any": (500, 6.0),
}
HISTORY_BUDGET = (250, 6.0)
# Over HTTP: a fixed number of requests per endpoint, at a fixed concurrency.
HTTP_CONCURRENCY = 8
HTTP_REQUESTS = {"live": 2000, "day": 1000, "one": 400, "any": 200}
HTTP_WARMUP = 40
PROFILE_CALLS = {"day": 400, "one": 200, "any": 100}
BUDGET_REQUESTS = {"day": 100, "one": 60, "any": 40}


@dataclass
class ApiResult:
    backend: str
    mode: str  # "in-process" or "HTTP"
    summaries: dict[str, Summary] = field(default_factory=dict)
    slots: dict[str, int] = field(default_factory=dict)
    body_bytes: dict[str, int] = field(default_factory=dict)
    round_trips: dict[str, Counter[str]] = field(default_factory=dict)
    budgets: dict[str, phases.Budget] = field(default_factory=dict)
    seeded: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class HistoryResult:
    backend: str
    summaries: dict[tuple[str, int], Summary] = field(default_factory=dict)
    identical: dict[str, bool] = field(default_factory=dict)
    budgets: dict[tuple[str, int], phases.Budget] = field(default_factory=dict)
    plans: dict[tuple[str, int], list[plans.QueryPlan]] = field(default_factory=dict)
    seed_seconds: dict[int, float] = field(default_factory=dict)
    error: str | None = None


# The benchmarks with a command of their own, run by `make bench` too: name -> title.
COMMANDS = {
    "sign_in": "Staff sign-in",
    "workspace": "The therapist's workspace",
    "review": "The admin review: queue, export, purge",
    "review_pages": "The admin review's pages over HTTP",
    "reports": "The reports page",
    "payments": "Deposits against the Stripe emulator",
}
COMMAND_TIMEOUT = 900  # seconds, each


@dataclass
class CommandResult:
    name: str
    seconds: float
    output: str
    error: str | None = None


@dataclass
class Results:
    started: datetime
    admin_url_set: bool
    backends: list[str]
    load_before: tuple[float, float, float]
    background_before: float | None = None
    background_after: float | None = None
    finished: datetime | None = None
    load_after: tuple[float, float, float] | None = None
    seconds: float = 0.0
    engine: list[bench_engine.EngineCase] = field(default_factory=list)
    engine_error: str | None = None
    api: list[ApiResult] = field(default_factory=list)
    history: list[HistoryResult] = field(default_factory=list)
    writes: list[writes.WriteResult] = field(default_factory=list)
    invitations: list[invitations.InvitationResult] = field(default_factory=list)
    profiles: list[profiling.Profile] = field(default_factory=list)
    commands: list[CommandResult] = field(default_factory=list)
    database_versions: dict[str, str] = field(default_factory=dict)
    cleanup_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        found = [self.engine_error] if self.engine_error else []
        found += [f"{r.backend} {r.mode}: {r.error}" for r in self.api if r.error]
        found += [f"{r.backend} history: {r.error}" for r in self.history if r.error]
        for w in self.writes:
            found += [f"{w.backend} bookings: {e}" for e in ([w.error] if w.error else [])]
            found += [f"{w.backend} bookings: unexpected answers, {p}" for p in w.problems]
        for i in self.invitations:
            found += [f"{i.backend} invitations: {e}" for e in ([i.error] if i.error else [])]
            found += [f"{i.backend} invitations: {p}" for p in i.problems]
        found += [f"{c.name}: {c.error}" for c in self.commands if c.error]
        return found + self.cleanup_problems


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def describe(exc: BaseException) -> str:
    # The app's lifespan runs in a task group: what failed inside it arrives wrapped.
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" at {last[0].filename}:{last[0].lineno}" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


# --- 1. the engine ---------------------------------------------------------------------------


def run_engine(results: Results) -> None:
    log("engine: compute_slots, 4 weeks, 0 to 10,000 busy intervals")
    try:
        results.engine = bench_engine.run()
    except Exception as exc:
        results.engine_error = describe(exc)
        log(f"engine failed: {results.engine_error}")
        return
    p50 = {(c.shape, c.busy): c.summary.p50 for c in results.engine}
    missed: list[tuple[str, int]] = [
        (shape, busy)
        for (shape, busy), value in p50.items()
        if busy == 1000 and value > targets.ENGINE_MAX_P50_AT_1000
    ]
    growth = [
        (p50[(shape, busy)] / p50[(shape, busy // 10)], shape, busy)
        for (shape, busy) in p50
        if busy >= 1000 and (shape, busy // 10) in p50
    ]
    worst = max(growth, default=None)
    if worst and worst[0] > targets.ENGINE_MAX_GROWTH_PER_10X:
        missed.append((worst[1], worst[2]))
    start, end, now = bench_engine.window()
    for shape, busy in dict.fromkeys(missed):
        if not profiling.available():
            results.notes.append("pyinstrument is not installed: no profile of the engine")
            break
        calendar = TherapistCalendar(
            therapist="bench",
            timezone=bench_engine.TZ,
            weekly=bench_engine.WEEKLY,
            busy=bench_engine.busy_intervals(shape, busy, start, end),
        )
        results.profiles.append(
            profiling.profile_sync(
                f"engine: compute_slots, {busy:,} busy intervals ({shape})",
                partial(compute_slots, calendar, bench_engine.POLICY, start, end, now),
                max(20, 300_000 // max(busy, 1000)),
            )
        )


# --- the benchmarks with commands of their own --------------------------------------------------


def run_command(results: Results, name: str) -> None:
    """`python -m tests.benchmarks.<name>` in a process of its own, its output kept."""
    log(f"{name}: python -m tests.benchmarks.{name}")
    started = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOKING_BENCH_")}
    try:
        done = subprocess.run(  # nosec B603: our own module, no shell
            [sys.executable, "-m", f"tests.benchmarks.{name}"],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        results.commands.append(
            CommandResult(name, time.perf_counter() - started, "", f"over {COMMAND_TIMEOUT} s")
        )
        return
    error = None
    if done.returncode != 0:
        error = f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
    results.commands.append(
        CommandResult(name, time.perf_counter() - started, done.stdout.strip(), error)
    )


# --- shared helpers --------------------------------------------------------------------------


def app_for(db: BenchDatabase, clock: Callable[[], datetime]) -> Litestar:
    return create_app(Settings.from_env(), db.engine, clock)


def clear_cache(app: Litestar) -> None:
    """Empty the app's availability cache (its `cached_availability` dependency), if it has
    one: the harness also measures code from before the cache."""
    provider = app.dependencies.get("cached_availability")
    if isinstance(provider, Provide):
        provider.dependency().clear()


def availability(practice: Practice, therapist: str) -> Request:
    return Request("/api/v1/availability", practice.query(therapist))


def availability_request(practice: Practice, name: str) -> Request:
    """The request `name` of AVAILABILITY: one therapist for a day or 4 weeks, any for 4."""
    if name == "day":
        return Request("/api/v1/availability", practice.day_query(ONE))
    return availability(practice, ONE if name == "one" else "any")


LIVE = Request("/health/live", {})


async def analyze(db: BenchDatabase) -> None:
    """PostgreSQL: what autovacuum would do a minute after seeding, so plans are stable: fresh
    planner statistics, and the dead row versions of the seeding's one transaction gone (its
    100,000 writes each raised a therapist's row in calendar_versions)."""
    engine = db.engine
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        async with engine.pool.acquire() as connection:
            await connection.execute("VACUUM ANALYZE")


async def seeded(
    databases: Databases, backend: str, label: str, now: datetime
) -> tuple[BenchDatabase, Practice]:
    db = await databases.create(backend, label)
    use_engine(db.engine)
    practice = await seed_practice(db.engine, now)
    await analyze(db)
    return db, practice


async def maybe_profile(
    results: Results, label: str, app: ASGIApp, request: Request, calls: int
) -> None:
    if not profiling.available():
        results.notes.append(f"pyinstrument is not installed: no profile for {label}")
        return

    async def work() -> None:
        await call(app, request)

    results.profiles.append(await profiling.profile_async(label, work, calls))


# --- 2a. the API in-process ------------------------------------------------------------------


async def run_inprocess(results: Results, databases: Databases, backend: str) -> None:
    result = ApiResult(backend, "in-process")
    results.api.append(result)
    log(f"{backend}: API in-process (fixed clock {FIXED_NOW.isoformat()})")
    try:
        db, practice = await seeded(databases, backend, "api", FIXED_NOW)
        result.seeded = practice.rows
        app = app_for(db, lambda: FIXED_NOW)
        async with app.lifespan():
            requests = {"live": LIVE}
            requests |= {name: availability_request(practice, name) for name in AVAILABILITY}
            runs = [
                Target(
                    name,
                    app,
                    requests[name],
                    *INPROCESS_BUDGET[name],
                    expect_slots=name != "live",
                )
                for name in ENDPOINTS
            ]
            result.summaries = await measure(runs)
            for run in runs:
                if run.slots is not None:
                    result.slots[run.label] = run.slots
                result.body_bytes[run.label] = run.body_bytes
            for name in AVAILABILITY:
                with count_round_trips() as counts:
                    await call(app, requests[name])
                result.round_trips[name] = counts
                result.budgets[name] = await phases.budget(
                    app, requests[name], BUDGET_REQUESTS[name]
                )
            # Always: where a request's time goes is the figure the next change starts from.
            for name in AVAILABILITY:
                await maybe_profile(
                    results,
                    f"{backend}, in-process GET /api/v1/availability ({name})",
                    app,
                    requests[name],
                    PROFILE_CALLS[name],
                )
    except Exception as exc:
        result.error = describe(exc)
        log(f"{backend} in-process failed: {result.error}")


# --- 2b. the API over HTTP -------------------------------------------------------------------


async def run_http(results: Results, databases: Databases, backend: str, root: Path) -> None:
    result = ApiResult(backend, "HTTP")
    results.api.append(result)
    try:
        now = utc_now()
        db, practice = await seeded(databases, backend, "http", now)
        result.seeded = practice.rows
        log(
            f"{backend}: API over HTTP, one `booking serve` process, concurrency {HTTP_CONCURRENCY}"
        )
        log_path = root / f"server-{backend}.log"
        async with (
            http_server.serve(db.server_env(), log_path) as base,
            httpx.AsyncClient(
                base_url=base,
                timeout=60.0,
                limits=httpx.Limits(
                    max_connections=HTTP_CONCURRENCY, max_keepalive_connections=HTTP_CONCURRENCY
                ),
            ) as client,
        ):
            params = {"live": {}, "day": practice.day_query(ONE), "one": practice.query(ONE)}
            params["any"] = practice.query("any")
            paths = {name: "/api/v1/availability" for name in AVAILABILITY}
            paths["live"] = LIVE.path
            for name in AVAILABILITY:
                response = await client.get(paths[name], params=params[name])
                if response.status_code != 200 or not response.json()["slots"]:
                    raise http_server.ServerError(
                        f"{name}: {response.status_code} {response.text[:300]}"
                    )
                result.slots[name] = len(response.json()["slots"])
                result.body_bytes[name] = len(response.content)
            for name in ENDPOINTS:
                result.summaries[name] = await http_server.drive(
                    client,
                    paths[name],
                    params[name],
                    HTTP_REQUESTS[name],
                    HTTP_CONCURRENCY,
                    HTTP_WARMUP,
                )
        problems = [
            line
            for line in log_path.read_text(errors="replace").splitlines()
            if "Traceback" in line or " ERROR " in line or " CRITICAL " in line
        ]
        if problems:
            results.notes.append(
                f"{backend} server log: {len(problems)} error lines, "
                f"the first: `{problems[0][:200]}`"
            )
    except Exception as exc:
        result.error = describe(exc)
        log(f"{backend} HTTP failed: {result.error}")


# --- 3. history outside the window -----------------------------------------------------------


async def run_history(results: Results, databases: Databases, backend: str) -> None:
    result = HistoryResult(backend)
    results.history.append(result)
    try:
        apps: dict[int, tuple[BenchDatabase, Practice, Litestar]] = {}
        for size in HISTORY_SIZES:
            log(f"{backend}: seeding {size:,} history rows")
            started = time.perf_counter()
            db, practice = await seeded(databases, backend, f"history-{size}", FIXED_NOW)
            await seed_history(db.engine, practice, size)
            await analyze(db)
            result.seed_seconds[size] = time.perf_counter() - started
            apps[size] = (db, practice, app_for(db, lambda: FIXED_NOW))
        log(f"{backend}: availability with {' vs '.join(f'{s:,}' for s in HISTORY_SIZES)} rows")
        async with AsyncExitStack() as stack:
            for _, _, app in apps.values():
                await stack.enter_async_context(app.lifespan())
            runs: list[tuple[str, int, Target]] = []
            for name in ("one", "any"):
                for size, (db, practice, app) in apps.items():
                    request = availability(practice, ONE if name == "one" else "any")
                    runs.append(
                        (
                            name,
                            size,
                            Target(
                                f"{name}@{size}",
                                app,
                                request,
                                *HISTORY_BUDGET,
                                prepare=_binder(db),
                                expect_slots=True,
                            ),
                        )
                    )
            summaries = await measure([run for _, _, run in runs])
            for name, size, run in runs:
                result.summaries[(name, size)] = summaries[run.label]
            for name in ("one", "any"):
                digests = {run.body_sha256 for n, _, run in runs if n == name}
                result.identical[name] = len(digests) == 1
            for name, size, run in runs:
                result.budgets[(name, size)] = await phases.budget(
                    run.app, run.request, BUDGET_REQUESTS[name], run.prepare
                )
            for name in ("one", "any"):
                for size, (db, practice, app) in apps.items():
                    use_engine(db.engine)
                    # From an empty cache, so the request reads its calendars.
                    clear_cache(app)
                    with capture_queries() as queries:
                        await call(app, availability(practice, ONE if name == "one" else "any"))
                    result.plans[(name, size)] = await plans.explain(db, queries)
            small, large = HISTORY_SIZES
            for name, size, run in runs:
                if size != large:
                    continue
                difference = targets.history_difference(
                    result.summaries[(name, small)].p50, result.summaries[(name, large)].p50
                )
                if difference > targets.HISTORY_MAX_DIFFERENCE:
                    run.prepare()
                    await maybe_profile(
                        results,
                        f"{backend}, GET /api/v1/availability ({name}) with {large:,} history rows",
                        run.app,
                        run.request,
                        PROFILE_CALLS[name],
                    )
    except Exception as exc:
        result.error = describe(exc)
        log(f"{backend} history failed: {result.error}")


@asynccontextmanager
async def _errors_into(problems: list[str]) -> AsyncIterator[None]:
    """Adds the first unhandled service error (a 500) to `problems`, with how many there were."""
    with writes.service_errors() as errors:
        try:
            yield
        finally:
            if errors.count:
                problems.append(
                    f"{errors.count} unhandled service error(s), the first: {errors.first}"
                )


def _binder(db: BenchDatabase) -> Callable[[], None]:
    return lambda: use_engine(db.engine)


# --- 4. bookings: distinct slots, and many requests for one slot ----------------------------


async def run_writes(results: Results, databases: Databases, backend: str) -> None:
    result = writes.WriteResult(backend)
    results.writes.append(result)
    try:
        db = await databases.create(backend, "writes")
        use_engine(db.engine)
        await writes.seed_practice()
        await analyze(db)
        app = create_app(writes.settings(), db.engine, lambda: FIXED_NOW)
        async with app.lifespan(), _errors_into(result.problems):
            slots = await writes.open_slots(app, writes.first_day(FIXED_NOW))
            result.offered = len(slots)
            pool = writes.SlotPool(slots)
            log(
                f"{backend}: POST /api/v1/bookings, {writes.BOOKINGS_PER_RUN} distinct slots at "
                f"concurrency {' and '.join(str(c) for c in writes.CONCURRENCY)}"
            )
            await writes.throughput(app, pool, result, writes.BOOKINGS_PER_RUN)
            log(
                f"{backend}: {writes.CONTENDERS} simultaneous POSTs for one slot, "
                f"{writes.ROUNDS} rounds"
            )
            await writes.contention(app, pool, result)
            if profiling.available():
                requests = [writes.booking(s) for s in pool.take(writes.PROFILE_CALLS)]
                queue = iter(requests)

                async def work() -> None:
                    await call(app, next(queue))

                result.profiles.append(
                    await profiling.profile_async(
                        f"{backend}, in-process POST /api/v1/bookings (distinct slots, one at "
                        "a time)",
                        work,
                        len(requests),
                    )
                )
    except Exception as exc:
        result.error = describe(exc)
        log(f"{backend} bookings failed: {result.error}")


# --- 5. invitations end to end ---------------------------------------------------------------


async def run_invitations(results: Results, databases: Databases, backend: str, root: Path) -> None:
    result = invitations.InvitationResult(backend)
    results.invitations.append(result)
    try:
        await invitations.run(result, databases, backend, root, log)
    except Exception as exc:
        result.error = describe(exc)
        log(f"{backend} invitations failed: {result.error}")


# --- the whole run ---------------------------------------------------------------------------


async def database_versions(databases: Databases) -> dict[str, str]:
    import sqlite3

    import asyncpg

    versions = {"sqlite": f"SQLite {sqlite3.sqlite_version} (library linked into Python)"}
    if databases.admin_url:
        try:
            connection = await asyncpg.connect(databases.admin_url)
            try:
                versions["postgres"] = "PostgreSQL " + str(
                    await connection.fetchval("SHOW server_version")
                )
            finally:
                await connection.close()
        except Exception as exc:
            versions["postgres"] = f"unreachable ({describe(exc)})"
    return versions


async def run_databases(
    results: Results, databases: Databases, root: Path, sections: set[str]
) -> None:
    steps: list[Callable[[], Awaitable[None]]] = []
    backends = databases.backends
    if "api" in sections:
        steps += [_step(run_inprocess, results, databases, b) for b in backends]
    if "http" in sections:
        steps += [_step(run_http, results, databases, b, root) for b in backends]
    if "history" in sections:
        steps += [_step(run_history, results, databases, b) for b in backends]
    if "writes" in sections:
        steps += [_step(run_writes, results, databases, b) for b in backends]
    if "invitations" in sections:
        # PostgreSQL first: it is the production setup.
        steps += [_step(run_invitations, results, databases, b, root) for b in reversed(backends)]
    try:
        results.database_versions = await database_versions(databases)
        for step in steps:
            await step()
    finally:
        results.cleanup_problems += await databases.drop_all()


def _step(function: Callable[..., Awaitable[None]], *args: Any) -> Callable[[], Awaitable[None]]:
    return lambda: function(*args)
