"""`python -m tests.benchmarks.review_pages [--bookings N] [--runs R]`: the admin's review
pages over HTTP, as a browser asks for them: the queue's first page over N bookings, one
couple's page, its export, and the audit log filtered to that booking.

Requests go through the ASGI app in this process, signed in as an admin through the real
sign-in pages (password and second factor). SQLite always; PostgreSQL too when
BENCH_DATABASE_URL or TEST_DATABASE_URL names a server (a database of its own, dropped at the
end). Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.benchmarks.review import NOW, _analyze, _seed

HTML = {"accept": "text/html"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.review_pages")
    parser.add_argument("--bookings", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="booking-bench-review-pages-"))
    os.environ.update(
        BOOKING_DATA_DIR=str(work / "app"),
        BOOKING_ENV="test",
        LOG_LEVEL="WARNING",
        HOLD_SWEEP_SECONDS="0",
        BOOKING_EMBEDDED_WORKER="0",
        RATE_LIMIT_PER_MINUTE="1000000",
    )
    os.environ.pop("DATABASE_URL", None)
    from booking.core.settings import initialise_from_env

    initialise_from_env()
    try:
        lines = asyncio.run(_measure(work, args.bookings, args.runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))
    return 0


async def _measure(work: Path, count: int, runs: int) -> list[str]:
    from tests.benchmarks.databases import Databases

    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    databases = Databases(work / "databases", url)
    lines = [
        f"Tool: `python -m tests.benchmarks.review_pages --bookings {count} --runs {runs}`; "
        f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), "
        f"Python {platform.python_version()}; date: {datetime.now(UTC):%Y-%m-%d}.",
        "",
        "| database | page | figures |",
        "|---|---|---|",
    ]
    try:
        for backend in databases.backends:
            db = await databases.create(backend, "pages")
            lines += await _pages(db, backend, count, runs)
    finally:
        await databases.drop_all()
    return lines


async def _pages(db: Any, backend: str, count: int, runs: int) -> list[str]:
    import httpx

    from booking.core.settings import Settings
    from booking.piccolo_app import use_engine
    from booking.staff.principal import Role
    from booking.web.app import create_app
    from tests.asgi import asgi_transport
    from tests.staff_support import create_staff, sign_in

    use_engine(db.engine)
    practice = await _seed(count, ended=False)
    await _analyze(db)
    login = await create_staff(Role.ADMIN)
    app = create_app(Settings.from_env(), db.engine, lambda: NOW)
    reference = practice["export_reference"]
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=asgi_transport(app), base_url="http://bench.local") as client,
    ):
        assert (await sign_in(client, login, at=NOW)).status_code == 303

        async def timed(path: str) -> tuple[float, float, int]:
            from tests.benchmarks.stats import percentile, summarize

            first = await client.get(path, headers=HTML)  # warm
            assert first.status_code == 200, (path, first.status_code)
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                response = await client.get(path, headers=HTML)
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, (path, response.status_code)
            return (
                summarize(samples).p50 * 1000,
                percentile(samples, 0.99) * 1000,
                len(first.content),
            )

        figures = [
            (f"`GET /staff/intakes`, first page of 50 over {count:,} bookings", "/staff/intakes"),
            ("`GET /staff/intakes?flag=yes`", "/staff/intakes?flag=yes"),
            (
                "`GET /staff/bookings/{reference}` (both parts, notes, history)",
                f"/staff/bookings/{reference}",
            ),
            (
                "`GET …/export.json` (2 parts x 3 versions)",
                f"/staff/bookings/{reference}/export.json",
            ),
            ("`GET /staff/audit?booking=…`", f"/staff/audit?booking={reference}"),
        ]
        lines = []
        for label, path in figures:
            p50, p99, size = await timed(path)
            lines.append(
                f"| {backend} | {label} | p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
                f"{size / 1024:.0f} KiB |"
            )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
