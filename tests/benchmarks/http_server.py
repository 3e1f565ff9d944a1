"""One `booking serve` process on a free local port, driven by httpx at a fixed concurrency."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from booking.core.settings import initialise_from_env
from tests.benchmarks.stats import Summary, summarize

READY_TIMEOUT = 60.0
NOT_INHERITED = frozenset(
    {
        "DATABASE_URL",
        "BOOKING_DATA_DIR",
        "PORT",
        "HOST",
        "HOLD_SWEEP_SECONDS",
        "BOOKING_EMBEDDED_WORKER",
        "BOOKING_BENCH_WORK",
        "BOOKING_BENCH_TOKEN",
    }
)
STOP_TIMEOUT = 10.0


class ServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def booking_command() -> str:
    """The `booking` script next to this interpreter (the project's virtualenv)."""
    script = Path(sys.executable).parent / "booking"
    if not script.exists():
        raise ServerError(f"{script} not found: run from the project's virtualenv")
    return str(script)


@asynccontextmanager
async def serve(env: Mapping[str, str], log_path: Path) -> AsyncIterator[str]:
    """Start the server with `env` added to this environment, yield its base URL once
    /health/ready answers 200, and stop it (TERM, then KILL) whatever happens."""
    port = free_port()
    # The server runs with the service's defaults (hold sweeper, embedded worker), not with
    # what the harness set for its in-process apps.
    environ = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    environ.update(
        BOOKING_ENV="development",
        BOOKING_DEMO_DATA="0",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    environ.update(env)
    initialise_from_env(environ)  # `booking init` on the server's data directory
    command = [booking_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *command, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        # For the supervisor, should this process die before it can stop the server.
        pid_file = log_path.with_suffix(".pid")
        pid_file.write_text(str(process.pid))
        try:
            await _wait_ready(process, base, log_path)
            yield base
        finally:
            await _stop(process)
            pid_file.unlink(missing_ok=True)


async def _wait_ready(process: asyncio.subprocess.Process, base: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer"
    async with httpx.AsyncClient(base_url=base, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise ServerError(f"server exited with {process.returncode}: {_tail(log_path)}")
            try:
                response = await client.get("/health/ready")
                if response.status_code == 200:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as exc:
                last = type(exc).__name__
            await asyncio.sleep(0.1)
    raise ServerError(f"server not ready after {READY_TIMEOUT:.0f}s ({last}): {_tail(log_path)}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Stop the server process: TERM, then KILL to its own process group (it leads a session
    of its own, so nothing else is signalled)."""
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await asyncio.wait_for(process.wait(), STOP_TIMEOUT)


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


async def drive(
    client: httpx.AsyncClient,
    path: str,
    params: Mapping[str, str],
    requests: int,
    concurrency: int,
    warmup: int,
) -> Summary:
    """`requests` GETs by `concurrency` workers on keep-alive connections; per-request latency
    and requests per second of wall time (warm-up requests not counted)."""

    async def one() -> float:
        t0 = time.perf_counter_ns()
        response = await client.get(path, params=params)
        elapsed = (time.perf_counter_ns() - t0) / 1e9
        if response.status_code != 200:
            raise ServerError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
        return elapsed

    async def worker(count: int, samples: list[float]) -> None:
        for _ in range(count):
            samples.append(await one())

    def shares(total: int) -> list[int]:
        return [
            total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)
        ]

    discard: list[float] = []
    await asyncio.gather(*(worker(n, discard) for n in shares(warmup)))
    samples: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(worker(n, samples) for n in shares(requests)))
    wall = time.perf_counter() - started
    return summarize(samples, wall=wall)


def ours(command: bytes) -> bool:
    """Whether a command line is one the harness starts: `booking serve`, `booking worker` or
    the Dramatiq command it runs (each in a process group of its own), or redis-server."""
    if b"redis-server" in command or b"booking.worker_process" in command:
        return True
    return b"booking" in command and (b" serve " in command or b" worker " in command)


def stop_leftovers(work: Path) -> list[int]:
    """Stop the process groups of servers and workers whose pid files remain under `work` (for
    the supervisor, after a crash); a pid is only signalled while its command line is still
    one the harness starts."""
    stopped = []
    for pid_file in work.rglob("*.pid"):
        try:
            pid = int(pid_file.read_text())
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ValueError):
            continue
        if not ours(command):
            continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
                time.sleep(0.1)
            if Path(f"/proc/{pid}").exists():
                os.killpg(pid, signal.SIGKILL)
            stopped.append(pid)
    return stopped
