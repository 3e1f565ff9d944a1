"""The frame of the benchmarks over N seeded bookings that run as commands of their own
(`python -m tests.benchmarks.review`, `.review_pages`, `.reports`; `make bench` runs them as
sections of its report): the arguments, a temporary data directory, the environment set before
the service is imported, a database of its own per phase on SQLite and, when
BENCH_DATABASE_URL or TEST_DATABASE_URL names a server, on PostgreSQL, and the Markdown lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# A phase: (database, backend, bookings, runs) -> its table rows.
Phase = Callable[[Any, str, int, int], Awaitable[list[str]]]


def run(
    name: str,
    header: str,
    phases: Sequence[tuple[str, Phase]],
    argv: list[str] | None,
    *,
    runs: int,
    **env: str,
) -> int:
    """Parse `--bookings N --runs R`, then run each (database name, phase) on every backend and
    print the tool line, the table `header` (its columns line) and the phases' rows."""
    parser = argparse.ArgumentParser(prog=f"python -m tests.benchmarks.{name}")
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=runs)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix=f"booking-bench-{name.replace('_', '-')}-"))
    os.environ.update(
        BOOKING_DATA_DIR=str(work / "app"),
        BOOKING_ENV="test",
        LOG_LEVEL="WARNING",
        HOLD_SWEEP_SECONDS="0",
        BOOKING_EMBEDDED_WORKER="0",
        **env,
    )
    os.environ.pop("DATABASE_URL", None)
    from booking.core.settings import initialise_from_env

    initialise_from_env()
    tool = f"python -m tests.benchmarks.{name} --bookings {args.bookings} --runs {args.runs}"
    try:
        lines = asyncio.run(_measure(work, tool, header, phases, args.bookings, args.runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))
    return 0


async def _measure(
    work: Path, tool: str, header: str, phases: Sequence[tuple[str, Phase]], count: int, runs: int
) -> list[str]:
    from tests.benchmarks.databases import Databases

    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    databases = Databases(work / "databases", url)
    columns = header.count("|") - 1
    lines = [
        f"Tool: `{tool}`; machine: {platform.machine()}, {os.cpu_count()} cores (shared), "
        f"Python {platform.python_version()}; date: {datetime.now(UTC):%Y-%m-%d}.",
        "",
        header,
        "|" + "---|" * columns,
    ]
    try:
        for backend in databases.backends:
            for database_name, phase in phases:
                db = await databases.create(backend, database_name)
                lines += await phase(db, backend, count, runs)
    finally:
        await databases.drop_all()
    return lines
