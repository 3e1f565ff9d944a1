"""`python -m tests.benchmarks [--only engine,api,...,review] [--output PATH]`.

Runs the measurements and overwrites docs/benchmarks.md, keeping the notes written by hand
below its marker line (`report.KEPT_MARKER`). The sign-in, workspace, review, review pages,
reports and deposits benchmarks run as processes of their own (`python -m
tests.benchmarks.sign_in`, `.workspace`, `.review`, `.review_pages`, `.reports`, `.payments`,
each also runnable alone); their output becomes a section of the report.

Two processes: this one supervises a second that measures, and whatever way that one ends
(even killed by a signal or a crash in a C extension) removes what it left: PostgreSQL
databases named `booking_bench_<token>_*`, a `booking serve` process, the temporary
directory.

The measuring process sets its environment before the service is imported: a temporary data
directory, BOOKING_ENV=test, no DATABASE_URL (every database is made here and dropped again),
and, as tests/conftest.py does, no hold sweeper and no embedded worker in the in-process app
(its relay thread would share this process's connection pool from another event loop).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (
    "engine",
    "api",
    "http",
    "history",
    "writes",
    "invitations",
    "sign_in",
    "workspace",
    "review",
    "review_pages",
    "reports",
    "payments",
)
WORK_ENV = "BOOKING_BENCH_WORK"  # set: this process measures; unset: it supervises
TOKEN_ENV = "BOOKING_BENCH_TOKEN"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run (default: all of {', '.join(SECTIONS)})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=ROOT / "docs" / "benchmarks.md",
        help="where the report is written (default: docs/benchmarks.md)",
    )
    args = parser.parse_args(argv)
    args.sections = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = args.sections - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    return args


def admin_url() -> str | None:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")


def main(argv: list[str] | None = None) -> int:
    if os.environ.get(WORK_ENV):
        return measure(argv)
    return supervise(argv)


# --- the supervising process -----------------------------------------------------------------


def supervise(argv: list[str] | None) -> int:
    parse(argv)  # usage errors before anything starts
    token = secrets.token_hex(4)
    work = Path(tempfile.mkdtemp(prefix="booking-bench-"))
    env = {**os.environ, WORK_ENV: str(work), TOKEN_ENV: token}
    arguments = sys.argv[1:] if argv is None else argv
    # Its own session: a Ctrl-C reaches it once, forwarded from here, not twice.
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks", *arguments], env=env, start_new_session=True
    )

    def forward(signum: int, frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    try:
        code = child.wait()
    finally:
        left = cleanup(work, token)
    if code < 0:
        print(f"error: the measuring process died of signal {-code}", file=sys.stderr)
    if left:
        print(f"cleaned up after it: {', '.join(left)}", file=sys.stderr)
    return code if code >= 0 else 128 - code


def cleanup(work: Path, token: str) -> list[str]:
    """Remove what a measuring process left behind; normally nothing is left."""
    from tests.benchmarks.http_server import stop_leftovers

    left = [f"process group {pid}" for pid in stop_leftovers(work)]
    url = admin_url()
    if url:
        from tests.benchmarks.databases import drop_leftovers

        try:
            left += [f"database {name}" for name in asyncio.run(drop_leftovers(url, token))]
        except Exception as exc:
            print(f"error: could not check for leftover databases: {exc!r}", file=sys.stderr)
    if work.exists():
        shutil.rmtree(work, ignore_errors=True)
    return left


# --- the measuring process -------------------------------------------------------------------


def measure(argv: list[str] | None) -> int:
    args = parse(argv)
    # Ctrl-C and TERM end the run through the cleanup below (databases dropped, server stopped).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    url = admin_url()
    work = Path(os.environ[WORK_ENV])
    os.environ.update(
        BOOKING_DATA_DIR=str(work / "app"),
        BOOKING_ENV="test",
        LOG_LEVEL="WARNING",
        HOLD_SWEEP_SECONDS="0",
        BOOKING_EMBEDDED_WORKER="0",
    )
    os.environ.pop("DATABASE_URL", None)
    # The init step, as `booking init` would: settings only read the development secrets.
    from booking.core.settings import initialise_from_env

    initialise_from_env()

    # Imported only now: the service reads its settings from the environment on import.
    from tests.benchmarks import report, runner
    from tests.benchmarks.databases import Databases

    results = runner.Results(
        started=datetime.now(UTC),
        admin_url_set=bool(url),
        backends=["sqlite", "postgres"] if url else ["sqlite"],
        load_before=os.getloadavg(),
        background_before=report.cpu_busy(),
    )
    databases = Databases(work / "databases", url, os.environ.get(TOKEN_ENV))
    started = time.perf_counter()
    interrupted = False
    try:
        if not url:
            runner.log("no BENCH_DATABASE_URL or TEST_DATABASE_URL: SQLite only")
        if "engine" in args.sections:
            runner.run_engine(results)
        if args.sections & {"api", "http", "history", "writes", "invitations"}:
            asyncio.run(runner.run_databases(results, databases, work, args.sections))
        for name in runner.COMMANDS:
            if name in args.sections:
                runner.run_command(results, name)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if databases.created_pg:  # the loop died before its own cleanup ran
            results.cleanup_problems += asyncio.run(databases.drop_all())
        results.seconds = time.perf_counter() - started
        results.finished = datetime.now(UTC)
        results.load_after = os.getloadavg()
        results.background_after = report.cpu_busy()
        shutil.rmtree(work, ignore_errors=True)
        if interrupted:  # a partial run does not replace the last complete report
            runner.log("interrupted: databases and server removed, report not written")
        else:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            kept = report.kept_notes(args.output)
            args.output.write_text(report.render(results) + kept)
            runner.log(f"wrote {args.output} ({results.seconds:.0f} s)")
    if interrupted:
        return 130
    for error in results.errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
