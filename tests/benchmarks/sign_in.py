"""`python -m tests.benchmarks.sign_in [--requests N] [--append]`: staff sign-in p50, in process.

Each request is a whole POST /staff/login through the ASGI app (CSRF check, account lookup,
argon2id verification, the session row, the audit row) on a migrated SQLite file in a
temporary data directory. The argon2 parameters are printed with the figures: they dominate.
Prints a Markdown section; `--append` adds it to docs/benchmarks.md. Not a `make bench`
section, because that harness rewrites the whole report from whichever sections ran.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "bench@staff.example.org"
PASSWORD = "bench passphrase, long enough"
# Fewer than the per-address limit (20 in 15 minutes), so no failure is throttled unchecked.
FAILURES = 15


async def measure(requests: int) -> dict[str, list[float]]:
    from litestar.testing import AsyncTestClient

    from booking.core.audit import SYSTEM
    from booking.core.db import sqlite_engine
    from booking.core.settings import Settings
    from booking.core.timezones import utc_now
    from booking.piccolo_app import migrate, use_engine
    from booking.staff.accounts import StaffAccounts
    from booking.staff.principal import Role
    from booking.staff.sessions import DatabaseSessionStore, Sessions
    from booking.web.app import create_app
    from tests.staff_support import form_token, post_form

    engine = sqlite_engine(str(Path(os.environ["BOOKING_DATA_DIR"]) / "booking.sqlite3"))
    await migrate(engine)
    use_engine(engine)
    settings = Settings.from_env()
    accounts = StaffAccounts(Sessions(settings, DatabaseSessionStore(), utc_now), utc_now)
    await accounts.create(EMAIL, Role.ADMIN, actor=SYSTEM, password=PASSWORD)
    timings: dict[str, list[float]] = {"right password": [], "wrong": [], "unknown email": []}
    async with AsyncTestClient(create_app(settings, engine), base_url="http://b.local") as client:
        client.follow_redirects = False
        token = await form_token(client, "/staff/login")
        plan = [("right password", EMAIL, PASSWORD, 303)] * requests
        plan += [("wrong", EMAIL, "not the password!", 401)] * (FAILURES // 2)
        plan += [("unknown email", "nobody@staff.example.org", PASSWORD, 401)] * (FAILURES // 2)
        for index, (name, email, password, expected) in enumerate(plan):
            if name == "wrong" and index % 3 == 0:  # a success between keeps the lock away
                await post_form(
                    client, "/staff/login", {"email": EMAIL, "password": PASSWORD}, token
                )
            started = time.perf_counter()
            response = await post_form(
                client, "/staff/login", {"email": email, "password": password}, token
            )
            timings[name].append(time.perf_counter() - started)
            if response.status_code != expected:
                raise RuntimeError(f"{name}: answered {response.status_code}")
            client.cookies.delete("staff_session")
    return timings


def section(timings: dict[str, list[float]]) -> str:
    from booking.staff.passwords import HASHER

    p = HASHER
    rows = [
        f"| {name} | {len(values)} | {statistics.median(values) * 1000:.0f} ms | "
        f"{statistics.quantiles(values, n=10)[-1] * 1000:.0f} ms |"
        for name, values in timings.items()
        if len(values) >= 2
    ]
    return "\n".join(
        [
            "",
            "## Staff sign-in (POST /staff/login, in process, SQLite)",
            "",
            f"Tool: `python -m tests.benchmarks.sign_in`; machine: {platform.machine()}, "
            f"{os.cpu_count()} CPUs (shared), Python {platform.python_version()}; "
            f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
            f"argon2id parameters (argon2-cffi defaults): time_cost={p.time_cost}, "
            f"memory_cost={p.memory_cost} KiB, parallelism={p.parallelism}, "
            f"hash_len={p.hash_len}, salt_len={p.salt_len}.",
            "",
            "| attempt | requests | p50 | p90 |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.sign_in")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--append", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="booking-bench-sign-in-") as work:
        os.environ.update(
            BOOKING_DATA_DIR=work,
            BOOKING_ENV="test",
            LOG_LEVEL="WARNING",
            HOLD_SWEEP_SECONDS="0",
            BOOKING_EMBEDDED_WORKER="0",
        )
        os.environ.pop("DATABASE_URL", None)
        from booking.core.settings import initialise_from_env

        initialise_from_env()
        text = section(asyncio.run(measure(args.requests)))
    print(text)
    if args.append:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as report:
            report.write(text)


if __name__ == "__main__":
    main()
