"""Invitations end to end: bookings committed in-process, one `booking worker` process relaying
the outbox through Redis and sending to a recording SMTP server in this process.

The pieces, each stopped in `finally` (and, should this process die, by the supervisor through
their pid files): a redis-server of the harness's own on a free port without persistence (or,
when redis-server is not installed, TEST_REDIS_URL's server on DB index REDIS_DB, flushed
before and after); an aiosmtpd server on a free port whose handler stamps each message with
time.time() as it accepts it; and `python -m booking worker --processes 1 --threads 8` with the
app's database, keys, broker and mail server. The app and the worker read the real clock (the
worker has no other), so the practice's slots start the next day.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from piccolo.engine.postgres import PostgresEngine

from booking.bookings.statuses import PARTNERS, MessageKind
from booking.core.crypto import Keyring
from booking.core.settings import Settings
from booking.core.timezones import utc_now
from booking.notifications.messages import message_id_for
from booking.notifications.outbox import dedupe_key
from booking.notifications.tables import OutboxMessage
from booking.piccolo_app import use_engine
from booking.web.app import create_app
from tests.benchmarks import profiling, writes
from tests.benchmarks.databases import BenchDatabase, Databases
from tests.benchmarks.http_server import NOT_INHERITED, free_port
from tests.benchmarks.profiling import Profile
from tests.benchmarks.stats import Summary, percentile, summarize

BOOKINGS = 1000
CONCURRENCY = 8
WORKER_THREADS = 8
POLL_SECONDS = "0.05"
READY_TIMEOUT = 90.0  # worker started -> its first message accepted
DELIVERY_DEADLINE = {"postgres": 180.0, "sqlite": 120.0}  # from the first commit
STOP_TIMEOUT = 20.0  # SIGTERM, then SIGKILL to the worker's process group
REDIS_DB = 15  # on TEST_REDIS_URL's server, when the harness cannot start its own
PUBLIC_BASE_URL = "http://bench.local"
SEED = 8080
PROFILE_BOOKINGS = 50  # their invitations are delivered in-process: half timed, half profiled


@dataclass(frozen=True)
class Latency:
    n: int
    minimum: float
    p50: float
    p99: float
    maximum: float

    @classmethod
    def of(cls, samples: list[float]) -> Latency | None:
        if not samples:
            return None
        return cls(
            len(samples),
            min(samples),
            percentile(samples, 0.5),
            percentile(samples, 0.99),
            max(samples),
        )


@dataclass
class Cpu:
    """CPU seconds spent during the measured phase, by who spent them, and the machine's busy
    share of all cores over it."""

    seconds: float = 0.0
    worker: float = 0.0
    harness: float = 0.0  # this process: the app, the SMTP server's thread, the client
    postgres: float = 0.0
    redis: float = 0.0
    machine_busy: float | None = None

    @property
    def other(self) -> float | None:
        """CPU seconds of everything else on the machine (the kernel included)."""
        if self.machine_busy is None:
            return None
        spent = self.machine_busy * (os.cpu_count() or 1) * self.seconds
        return max(0.0, spent - self.worker - self.harness - self.postgres - self.redis)


@dataclass(frozen=True)
class Delivery:
    """Deliveries done one at a time in this process: seconds of wall and CPU time each."""

    messages: int
    wall: float
    cpu: float
    statuses: dict[str, int]


@dataclass
class InvitationResult:
    backend: str
    broker: str = ""
    bookings: int = 0  # committed (answered 201) in the measured phase
    expected: int = 0  # messages those bookings queued
    delivered: int = 0  # distinct messages the SMTP server accepted
    duplicates: int = 0
    complete: bool = False
    deadline: float = 0.0
    ready_seconds: float | None = None  # worker started -> first warm-up message accepted
    commit_seconds: float = 0.0  # first to last POST answered
    span: float = 0.0  # first commit -> last acceptance
    post_latency: Summary | None = None
    handoff: Latency | None = None  # relayed_at - created_at (stored, whole seconds)
    accepted: Latency | None = None  # arrival - created_at
    answered_to_accepted: Latency | None = None  # arrival - POST answered (this clock)
    statuses: dict[str, int] = field(default_factory=dict)  # outbox rows at the end
    cpu: Cpu | None = None
    delivery: Delivery | None = None
    profiles: list[Profile] = field(default_factory=list)
    command: str = ""  # the worker's command line (after the interpreter)
    worker_exit: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def messages_per_second(self) -> float:
        return self.delivered / self.span if self.span > 0 else 0.0

    @property
    def bookings_per_second(self) -> float:
        return self.delivered / len(PARTNERS) / self.span if self.span > 0 else 0.0


# --- the recording SMTP server ---------------------------------------------------------------


class Recorder:
    """aiosmtpd handler: accepts every message and notes its Message-ID and time.time()."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.parser = BytesHeaderParser(policy=compat32)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = self.parser.parsebytes(envelope.content)
        message_id = str(headers.get("Message-ID", "")).strip()
        with self.lock:
            self.arrivals.append((time.time(), message_id))
        return "250 2.0.0 Accepted"

    def snapshot(self) -> list[tuple[float, str]]:
        with self.lock:
            return list(self.arrivals)

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


@contextmanager
def smtp_server() -> Iterator[tuple[str, Recorder]]:
    from aiosmtpd.controller import Controller

    recorder = Recorder()
    port = free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", recorder
    finally:
        controller.stop()


# --- Redis -----------------------------------------------------------------------------------


@contextmanager
def redis_broker(root: Path, label: str) -> Iterator[tuple[str, str]]:
    """(BROKER_URL, description): a redis-server of this run's own, else TEST_REDIS_URL's on
    DB index REDIS_DB (flushed before and after)."""
    executable = shutil.which("redis-server")
    if executable:
        with own_redis(executable, root, label) as found:
            yield found
        return
    shared = os.environ.get("TEST_REDIS_URL")
    if not shared:
        raise RuntimeError("no redis-server installed and no TEST_REDIS_URL set")
    import redis

    url = urlunsplit(urlsplit(shared)._replace(path=f"/{REDIS_DB}"))
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.flushdb()
        yield url, f"TEST_REDIS_URL's server, DB {REDIS_DB} (flushed before and after)"
    finally:
        with contextlib.suppress(Exception):
            client.flushdb()
        client.close()


@contextmanager
def own_redis(executable: str, root: Path, label: str) -> Iterator[tuple[str, str]]:
    import redis

    directory = root / f"redis-{label}"
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = directory / "redis.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                executable,
                *("--port", str(port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--dir", str(directory)),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file = root / f"redis-{label}.pid"
    pid_file.write_text(str(process.pid))
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + 15
        try:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"redis-server exited: {tail(log)}")
                with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
                    if client.ping():
                        version = str(client.info("server").get("redis_version", "?"))
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not answer PING within 15 s")
                time.sleep(0.05)
        finally:
            client.close()
        yield url, f"redis-server {version} started by the harness (no persistence)"
    finally:
        stop_process(process, 10.0)
        pid_file.unlink(missing_ok=True)


# --- the worker process ----------------------------------------------------------------------


def worker_command() -> list[str]:
    return [
        sys.executable,
        *("-m", "booking", "worker"),
        *("--processes", "1", "--threads", str(WORKER_THREADS)),
    ]


def dramatiq_command() -> list[str]:
    """What `booking worker` runs (booking/cli.py): Dramatiq's CLI on the worker module, for
    when `booking worker` itself fails to start."""
    from booking.worker import QUEUE

    return [
        sys.executable,
        *("-m", "dramatiq", "booking.worker_process:setup"),
        *("--processes", "1", "--threads", str(WORKER_THREADS), "--queues", QUEUE),
    ]


def worker_env(db: BenchDatabase, shared: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(shared)
    env.update(db.server_env())  # BOOKING_DATA_DIR (the SQLite file's), DATABASE_URL
    env.update(LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    return env


def start_worker(
    command: list[str], env: dict[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """The worker in a session (and process group) of its own."""
    with log_path.open("wb") as output:
        return subprocess.Popen(
            command,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> str:
    """SIGTERM to the process, then SIGKILL to its whole group after `timeout`; how it ended."""
    if process.poll() is not None:
        return f"had exited with {process.returncode}"
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
        how = f"stopped by SIGTERM (exit {process.returncode})"
    except subprocess.TimeoutExpired:
        how = f"killed: still running {timeout:.0f} s after SIGTERM"
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever is left of its group
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    return how


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- CPU accounting --------------------------------------------------------------------------


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _processes() -> Iterator[tuple[str, int, float]]:
    """(command name, process group, CPU seconds) of every process we can read."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat.rsplit(")", 1)[1].split()
        yield name, int(fields[2]), (int(fields[11]) + int(fields[12])) / TICK


def _machine() -> tuple[int, int] | None:
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return sum(values[:8]), values[3] + values[4]


@dataclass
class CpuSample:
    at: float
    worker: float
    harness: float
    postgres: float
    redis: float
    machine: tuple[int, int] | None


def sample_cpu(worker_group: int) -> CpuSample:
    worker = postgres = redis = 0.0
    for name, group, seconds in _processes():
        if group == worker_group:
            worker += seconds
        elif name == "postgres":
            postgres += seconds
        elif name.startswith("redis-server"):
            redis += seconds
    return CpuSample(time.monotonic(), worker, time.process_time(), postgres, redis, _machine())


def cpu_between(a: CpuSample, b: CpuSample) -> Cpu:
    busy = None
    if a.machine and b.machine and b.machine[0] > a.machine[0]:
        total = b.machine[0] - a.machine[0]
        busy = (total - (b.machine[1] - a.machine[1])) / total
    return Cpu(
        seconds=b.at - a.at,
        worker=b.worker - a.worker,
        harness=b.harness - a.harness,
        postgres=b.postgres - a.postgres,
        redis=b.redis - a.redis,
        machine_busy=busy,
    )


# --- the measurement -------------------------------------------------------------------------


async def run(
    result: InvitationResult,
    databases: Databases,
    backend: str,
    root: Path,
    log: Callable[[str], None],
) -> None:
    result.deadline = DELIVERY_DEADLINE[backend]
    db = await databases.create(backend, "invitations")
    use_engine(db.engine)
    await writes.seed_practice()
    if isinstance(db.engine, PostgresEngine) and db.engine.pool is not None:
        async with db.engine.pool.acquire() as connection:
            await connection.execute("ANALYZE")
    with smtp_server() as (smtp_url, recorder), redis_broker(root, backend) as (broker, about):
        result.broker = about
        # Both processes get the same keys, broker, mail server and public URL, set here.
        shared = {
            "BROKER_URL": broker,
            "SMTP_URL": smtp_url,
            "BOOKING_SECRET_KEY": secrets.token_urlsafe(48),
            "BOOKING_DATA_KEY": f"bench:{Keyring.generate_key()}",
            "OUTBOX_POLL_SECONDS": POLL_SECONDS,
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        }
        settings = writes.settings(**shared)
        app = create_app(settings, db.engine, utc_now)  # the real clock, as the worker's
        async with app.lifespan():
            with writes.service_errors() as errors:
                slots = await writes.open_slots(app, writes.first_day(utc_now()))
                pool = writes.SlotPool(slots, SEED)
                answered = await _with_worker(
                    result, app, db, shared, settings.domain, recorder, root, backend, log, pool
                )
                if profiling.available():
                    try:
                        await _profile_delivery(result, app, pool, settings, log)
                    except Exception as exc:  # the figures above stand without it
                        result.notes.append(f"delivery profile failed: {exc!r}")
            if errors.count:
                result.problems.append(
                    f"{errors.count} unhandled service error(s), the first: {errors.first}"
                )
    await _read_outbox(result, settings.domain, recorder.snapshot(), answered)


async def _with_worker(
    result: InvitationResult,
    app: Any,
    db: BenchDatabase,
    shared: dict[str, str],
    domain: str,
    recorder: Recorder,
    root: Path,
    backend: str,
    log: Callable[[str], None],
    pool: writes.SlotPool,
) -> dict[str, float]:
    """Start the worker, measure, stop it (whatever happens); when each booking was answered."""
    warmup = [writes.booking(s) for s in pool.take(1)]
    requests = [writes.booking(s) for s in pool.take(BOOKINGS)]
    log(
        f"{backend}: invitations, one `booking worker` ({WORKER_THREADS} threads) on "
        f"{shared['BROKER_URL']}, {BOOKINGS} bookings at concurrency {CONCURRENCY}"
    )
    posted = await writes.post_all(app, warmup, 1)
    if posted.statuses["201"] != len(warmup):
        raise RuntimeError(f"warm-up booking: {posted.first_problem}")
    env = worker_env(db, shared)
    pid_file = root / f"worker-{backend}.pid"
    for attempt, command in enumerate((worker_command(), dramatiq_command())):
        log_path = root / f"worker-{backend}-{attempt}.log"
        worker = start_worker(command, env, log_path)
        pid_file.write_text(str(worker.pid))
        try:
            started = time.monotonic()
            # Ready once the warm-up booking's invitations have been accepted.
            ready = await _wait(
                lambda: recorder.count() >= len(PARTNERS),
                worker,
                log_path,
                started + READY_TIMEOUT,
                fail_on_exit=False,
            )
            if worker.poll() is not None and attempt == 0 and not recorder.count():
                last = tail(log_path, 1)
                result.problems.append(
                    f"`{' '.join(command[1:])}` exited with {worker.returncode} at start "
                    f"(`{last[:200]}`); measured with `{' '.join(dramatiq_command()[1:])}`, "
                    "the command it runs, instead"
                )
                log(f"`booking worker` failed to start ({last[:120]}); trying Dramatiq's CLI")
                continue
            if not ready:
                raise RuntimeError(
                    f"the worker delivered {recorder.count()} message(s) within "
                    f"{READY_TIMEOUT:.0f} s of starting: {tail(log_path, 3)}"
                )
            result.command = " ".join(command[1:])
            result.ready_seconds = time.monotonic() - started
            log(f"worker ready after {result.ready_seconds:.1f} s; committing the bookings")
            return await _measure(result, app, worker, log_path, recorder, domain, requests, log)
        finally:
            result.worker_exit = await asyncio.to_thread(stop_process, worker, STOP_TIMEOUT)
            pid_file.unlink(missing_ok=True)
            problems = [
                line
                for line in log_path.read_text(errors="replace").splitlines()
                if "Traceback" in line or "ERROR" in line or "CRITICAL" in line
            ]
            if problems and result.command:
                result.notes.append(
                    f"worker log: {len(problems)} error lines, the first: `{problems[0][:200]}`"
                )
    raise RuntimeError("no worker command started")


async def _profile_delivery(
    result: InvitationResult,
    app: Any,
    pool: writes.SlotPool,
    settings: Settings,
    log: Callable[[str], None],
) -> None:
    """What one delivery costs, without Dramatiq or Redis: the actor's work
    (`Deliverer.deliver`, to the same SMTP server) on fresh invitations in this process, one at
    a time; half timed, half under pyinstrument."""
    from booking.notifications.delivery import Deliverer
    from booking.notifications.transport import SmtpTransport

    log(f"{result.backend}: profiling the delivery of {2 * PROFILE_BOOKINGS} invitations")
    posted = await writes.post_all(
        app, [writes.booking(s) for s in pool.take(PROFILE_BOOKINGS)], CONCURRENCY
    )
    rows = await OutboxMessage.select(
        OutboxMessage._meta.primary_key, OutboxMessage.booking.reference.as_alias("reference")
    ).where((OutboxMessage.kind == "invitation") & (OutboxMessage.status == "pending"))
    references = set(posted.references)
    ids = [r["id"] for r in rows if r["reference"] in references]
    if len(ids) < 2:
        raise RuntimeError(f"{len(ids)} fresh invitations to deliver")
    assert settings.smtp_url
    deliverer = Deliverer(settings, SmtpTransport(settings.smtp_url), utc_now)
    timed, profiled = ids[: len(ids) // 2], ids[len(ids) // 2 :]
    statuses: Counter[str] = Counter()
    wall, cpu = time.perf_counter(), time.process_time()
    for outbox_id in timed:
        statuses[await deliverer.deliver(outbox_id)] += 1
    result.delivery = Delivery(
        len(timed),
        (time.perf_counter() - wall) / len(timed),
        (time.process_time() - cpu) / len(timed),
        dict(statuses),
    )
    queue = iter(profiled)

    async def work() -> None:
        await deliverer.deliver(next(queue))

    result.profiles.append(
        await profiling.profile_async(
            f"{result.backend}, one invitation delivered (Deliverer.deliver), in-process",
            work,
            len(profiled),
        )
    )


async def _wait(
    condition: Callable[[], bool],
    worker: subprocess.Popen[bytes],
    log_path: Path,
    until: float,
    fail_on_exit: bool = True,
) -> bool:
    """Poll `condition` until it holds (True) or `until` (time.monotonic()) passes (False);
    if the worker exits meanwhile, RuntimeError (or False when not `fail_on_exit`)."""
    while not condition():
        if worker.poll() is not None:
            if not fail_on_exit:
                return False
            raise RuntimeError(f"the worker exited with {worker.returncode}: {tail(log_path)}")
        if time.monotonic() > until:
            return False
        await asyncio.sleep(0.02)
    return True


async def _measure(
    result: InvitationResult,
    app: Any,
    worker: subprocess.Popen[bytes],
    log_path: Path,
    recorder: Recorder,
    domain: str,
    requests: list[Any],
    log: Callable[[str], None],
) -> dict[str, float]:
    """Commit the bookings, wait for their messages; returns when each booking was answered
    (time.time()) by its reference."""
    before = sample_cpu(worker.pid)
    deadline = time.monotonic() + result.deadline
    posted = await writes.post_all(app, requests, CONCURRENCY, deadline)
    result.bookings = posted.statuses["201"]
    result.post_latency = summarize(posted.latencies, posted.wall) if posted.latencies else None
    if result.bookings != len(requests):
        result.problems.append(
            f"{result.bookings} of {len(requests)} bookings answered 201 "
            f"({dict(posted.statuses)}; first other answer {posted.first_problem})"
        )
    if posted.answered_at:
        result.commit_seconds = max(posted.answered_at) - min(posted.answered_at)
    answered = dict(zip(posted.references, posted.answered_at, strict=True))
    wanted = {
        message_id_for(dedupe_key(reference, MessageKind.INVITATION, 0, who), domain)
        for reference in answered
        for who in PARTNERS
    }
    result.expected = len(wanted)

    def arrived() -> int:
        return len(wanted & {mid for _, mid in recorder.snapshot()})

    log(
        f"{result.bookings} bookings committed in {posted.wall:.1f} s; waiting for "
        f"{result.expected} messages (deadline {result.deadline:.0f} s from the first commit)"
    )
    last_log = time.monotonic()

    def done() -> bool:
        nonlocal last_log
        if time.monotonic() - last_log > 15:
            last_log = time.monotonic()
            log(f"... {arrived()} of {result.expected} messages accepted")
        return arrived() >= result.expected

    result.complete = await _wait(done, worker, log_path, deadline)
    result.cpu = cpu_between(before, sample_cpu(worker.pid))
    return answered


async def _read_outbox(
    result: InvitationResult,
    domain: str,
    arrivals: list[tuple[float, str]],
    answered: dict[str, float],
) -> None:
    """Per-message figures from the outbox rows of the measured bookings and the arrivals."""
    rows = await OutboxMessage.select(
        OutboxMessage.booking.reference.as_alias("reference"),
        OutboxMessage.dedupe_key,
        OutboxMessage.status,
        OutboxMessage.created_at,
        OutboxMessage.relayed_at,
    ).where(OutboxMessage.kind == "invitation")
    rows = [r for r in rows if r["reference"] in answered]
    first_arrival: dict[str, float] = {}
    copies: Counter[str] = Counter()
    for at, message_id in arrivals:
        copies[message_id] += 1
        first_arrival.setdefault(message_id, at)
    handoff: list[float] = []
    accepted: list[float] = []
    answered_to_accepted: list[float] = []
    last = 0.0
    for row in rows:
        created = row["created_at"].timestamp()
        if row["relayed_at"] is not None:
            handoff.append(row["relayed_at"].timestamp() - created)
        message_id = message_id_for(row["dedupe_key"], domain)
        arrival = first_arrival.get(message_id)
        if arrival is None:
            continue
        result.delivered += 1
        result.duplicates += copies[message_id] - 1
        last = max(last, arrival)
        accepted.append(arrival - created)
        answered_to_accepted.append(arrival - answered[row["reference"]])
    result.statuses = dict(Counter(r["status"] for r in rows))
    if len(rows) != result.expected:
        result.problems.append(f"{len(rows)} invitation rows for {result.expected} expected")
    if answered and last:
        result.span = last - min(answered.values())
    result.handoff = Latency.of(handoff)
    result.accepted = Latency.of(accepted)
    result.answered_to_accepted = Latency.of(answered_to_accepted)
    if result.duplicates:
        result.problems.append(f"{result.duplicates} message(s) accepted more than once")
    if not result.complete:
        result.notes.append(
            f"{result.delivered} of {result.expected} messages delivered by the deadline "
            f"({result.deadline:.0f} s after the first commit)"
        )
