"""Faults around the outbox: a broker the test stops and starts, workers that die, and an
SMTP server that refuses.

A test that breaks or kills something around the broker starts its own redis-server on a free
port (the shared TEST_REDIS_URL server is not the test's to stop). Those tests run when
TEST_REDIS_SERVER names the redis-server binary (or is 1: the one on PATH), as CI sets it;
otherwise they are deselected at collection, as the PostgreSQL suites are without
TEST_DATABASE_URL. The SMTP error tests run on the `delivering` fixture's brokers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import redis

from booking.core.datadir import initialise
from booking.core.settings import Settings
from booking.notifications.tables import OutboxMessage
from booking.worker import OutboxWorker, make_broker
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.mailserver import Received, free_port
from tests.waiting import eventually

BOOKING = [sys.executable, "-m", "booking"]
REDIS_SERVER = os.environ.get("TEST_REDIS_SERVER") or None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without TEST_REDIS_SERVER, deselect the tests that start a redis-server of their own."""
    if REDIS_SERVER is not None:
        return
    needing = [item for item in items if "redis_server" in getattr(item, "fixturenames", ())]
    if needing:
        config.hook.pytest_deselected(items=needing)
        items[:] = [item for item in items if item not in needing]


def redis_server_executable() -> str:
    """The binary TEST_REDIS_SERVER names; a configured binary that is missing fails the test."""
    assert REDIS_SERVER is not None, "TEST_REDIS_SERVER is not set"
    executable = shutil.which("redis-server") if REDIS_SERVER == "1" else REDIS_SERVER
    if not executable or not Path(executable).is_file():
        raise AssertionError(f"TEST_REDIS_SERVER={REDIS_SERVER} names no redis-server binary")
    return executable


class RedisServer:
    """A redis-server process of the test's own, without persistence: stopped, it loses its
    queues, as a broker host that crashed would."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.directory / f"redis-{self.starts}.log"

    def start(self, within: float = 10.0) -> None:
        """Start on the same port as before and return once it answers PING."""
        assert self.process is None, "redis-server is already running"
        executable = redis_server_executable()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    executable,
                    *("--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                    *("--dir", str(self.directory)),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + within
        try:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"redis-server exited with {self.process.returncode}:\n"
                        + self.log.read_text(errors="replace")
                    )
                with suppress(redis.ConnectionError, redis.TimeoutError):
                    if client.ping():
                        return
                if time.monotonic() > deadline:
                    raise AssertionError(f"redis-server did not answer PING within {within} s")
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop it and wait until it is gone (its port refuses connections again)."""
        if self.process is None:
            return
        process, self.process = self.process, None
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def dramatiq_worker(
    settings: Settings, clock: FixedClock, database: Database
) -> AsyncIterator[dramatiq.Worker]:
    """A real Dramatiq worker on BROKER_URL with the outbox relay, in this process (as the
    `delivering` fixture runs one); it starts whether or not the broker answers."""
    broker = make_broker(settings.broker_url)
    broker.add_middleware(OutboxWorker(settings, clock, database.engine))
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        yield worker
    finally:
        await asyncio.to_thread(worker.stop)


async def outbox_rows(kind: str | None = "invitation") -> list[dict[str, Any]]:
    """The outbox, oldest first: the invitations by default (a booking also queues reminders,
    due a day before it starts, which these tests leave alone)."""
    query = OutboxMessage.select(
        OutboxMessage._meta.primary_key,
        OutboxMessage.booking.reference.as_alias("reference"),
        OutboxMessage.kind,
        OutboxMessage.recipient,
        OutboxMessage.dedupe_key,
        OutboxMessage.status,
        OutboxMessage.attempts,
        OutboxMessage.last_error,
        OutboxMessage.next_attempt_at,
        OutboxMessage.lease_until,
        OutboxMessage.message_id,
    ).order_by(OutboxMessage._meta.primary_key)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return list(await query)


async def outbox_when(
    condition: Callable[[list[dict[str, Any]]], bool],
    within: float = 20.0,
    kind: str | None = "invitation",
) -> list[dict[str, Any]]:
    """The outbox rows as soon as they meet `condition` (AssertionError after `within` s)."""

    async def check() -> list[dict[str, Any]]:
        rows = await outbox_rows(kind)
        return rows if condition(rows) else []

    return await eventually(check, within=within)


def all_sent(rows: list[dict[str, Any]]) -> bool:
    return bool(rows) and all(row["status"] == "sent" for row in rows)


def statuses(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(row["status"] for row in rows)


def message_ids(received: list[Received]) -> Counter[str]:
    """How many times each Message-ID reached the server."""
    return Counter(str(r.message["Message-ID"]) for r in received)


def command_env(database: Database, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `booking` process on the test's database: the SQLite file in
    `data_dir`, or DATABASE_URL on PostgreSQL; `data_dir` has been through the init step."""
    initialise(data_dir)
    env = {**os.environ, "BOOKING_ENV": "development", "BOOKING_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    if database.url is not None:
        env["DATABASE_URL"] = database.url
    env.update(extra)
    return env


def sqlite_directory(database: Database) -> Path:
    """The directory of the test's SQLite file: the data directory a process opening it needs
    (it reads `<data dir>/booking.sqlite3`)."""
    path = Path(database.sqlite_path)
    assert path.name == "booking.sqlite3", path
    return path.parent


class LogRecords(logging.Handler):
    """Collects a logger's records, from any thread; `wait_for` returns as soon as enough
    records containing a text arrived."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.condition = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.condition:
            self.records.append(record)
            self.condition.notify_all()

    def count(self, text: str) -> int:
        return sum(text in r.getMessage() for r in self.records)

    def wait_for(self, text: str, count: int = 1, timeout: float = 20.0) -> bool:
        with self.condition:
            return self.condition.wait_for(lambda: self.count(text) >= count, timeout=timeout)


@pytest.fixture
def relay_log() -> Iterator[LogRecords]:
    """What the outbox relay logs (booking.outbox), whatever thread it runs on."""
    handler = LogRecords()
    logger = logging.getLogger("booking.outbox")
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


class WorkerProcess:
    """`booking worker` as an operator runs it: its own process group, so the whole group
    (the Dramatiq supervisor and its worker process) can be killed at once."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                [*BOOKING, "worker", "--processes", "1", "--threads", "2"],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.group = self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def assert_running(self) -> None:
        """An AssertionError with the worker's output if it is no longer running."""
        code = self.process.poll()
        if code is not None:
            raise AssertionError(f"`booking worker` exited with {code}:\n{self.output()}")

    def wait_for(self, event: threading.Event, within: float = 30.0) -> None:
        """Return once `event` is set; fail at once if the worker exits first."""
        deadline = time.monotonic() + within
        while not event.wait(0.05):
            self.assert_running()
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing happened within {within} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL the whole group and wait until none of it runs any more."""
        with suppress(ProcessLookupError):
            os.killpg(self.group, signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while live_members(self.group):
            assert time.monotonic() < deadline, f"process group {self.group} outlived SIGKILL"
            time.sleep(0.02)

    def stop(self) -> None:
        """Ask for a graceful shutdown; kill whatever is left after 20 s.

        SIGTERM goes to the Dramatiq main process only, which passes it on to its worker
        process. (A worker process that gets SIGTERM twice, from the group and from the main
        process, exits at once without stopping its AsyncIO event loop thread, and then does
        not exit at all.)
        """
        if self.process.poll() is None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        self.kill()


def live_members(group: int) -> list[int]:
    """Processes of a group that still run (zombies waiting to be reaped do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():  # no procfs: the group leader having been reaped must do
        return []
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members
