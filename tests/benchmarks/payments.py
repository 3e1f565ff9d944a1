"""Deposits against the Stripe emulator: the pay request's time from the saved card to the
confirmed booking, and 50 pay requests for 50 bookings at once, each confirmed and charged once.

`python -m tests.benchmarks.payments` (after `make install`): SQLite always, PostgreSQL too when
BENCH_DATABASE_URL or TEST_DATABASE_URL names a server (a database of its own, dropped after).
Requests go through the ASGI app in this process; Stripe is localstripe in a subprocess, as in
the tests. Prints the figures as a Markdown section (`--append`: also adds it to
docs/benchmarks.md); `make bench` runs it as a section of its report.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

WORK = Path(tempfile.mkdtemp(prefix="booking-bench-pay-"))
os.environ.update(
    BOOKING_ENV="test",
    BOOKING_DATA_DIR=str(WORK / "app"),
    LOG_LEVEL="WARNING",
    HOLD_SWEEP_SECONDS="0",
    BOOKING_EMBEDDED_WORKER="0",
    RATE_LIMIT_PER_MINUTE="1000000",
    BOOKING_LIMIT_PER_EMAIL="1000000",
    HOLD_LIMIT_PER_ADDRESS="1000000",
    BOOKING_LIMIT_PER_ADDRESS_PER_DAY="1000000",
)
os.environ.pop("DATABASE_URL", None)

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "docs" / "benchmarks.md"
HEADING = "## Deposits against the Stripe emulator"
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
SEQUENTIAL = 40
CONCURRENT = 50


async def run(backend: str, url: str | None, emulator: Any) -> list[tuple[str, str, str]]:
    import asyncpg
    import httpx

    from booking.core.db import close_pool, open_pool, postgres_engine, sqlite_engine
    from booking.core.settings import Settings
    from booking.piccolo_app import migrate, use_engine
    from booking.web.app import create_app
    from tests.asgi import asgi_transport
    from tests.benchmarks.stats import ms, summarize
    from tests.factories import booking_request, make_therapist, make_type
    from tests.stripe_emulator import CARD_OK, StripeEmulator

    stripe = StripeEmulator(emulator.api_base)
    drop = None
    if backend == "sqlite":
        engine: Any = sqlite_engine(str(WORK / f"bench-{uuid.uuid4().hex[:6]}.sqlite3"))
    else:
        assert url is not None
        name = f"booking_bench_pay_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        engine = postgres_engine(urlunsplit(urlsplit(url)._replace(path=f"/{name}")))
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    rows: list[tuple[str, str, str]] = []
    try:
        await migrate(engine)
        use_engine(engine)
        await open_pool(engine)
        paid = await make_type(
            "paid",
            name="Couples consultation",
            price_amount=15000,
            deposit_amount=5000,
            min_notice_minutes=0,
            modes=["video"],
        )
        week = tuple((d, "07:00", "21:00") for d in range(7))
        await make_therapist("ana", types=(paid,), hours=week, modes=["video"])
        settings = stripe.settings(Settings.from_env())
        app = create_app(settings, engine, lambda: NOW)
        async with (
            app.lifespan(),
            httpx.AsyncClient(transport=asgi_transport(app), base_url="http://bench.local") as http,
        ):
            slots = (
                await http.get(
                    "/api/v1/availability",
                    params={
                        "consultation_type": "paid",
                        "therapist": "ana",
                        "start": "2026-12-03",
                        "end": "2026-12-31",
                    },
                )
            ).json()["slots"]
            # On the hour: a consultation and its buffer fill the hour, so these never overlap.
            starts = [s["start"] for s in slots if s["start"][14:16] == "00"]
            assert len(starts) >= SEQUENTIAL + CONCURRENT, len(starts)

            async def ready(start: str) -> tuple[str, str]:
                """A hold whose card is saved: its payment path and SetupIntent."""
                response = await http.post(
                    "/api/v1/bookings", json=booking_request(start, kind="paid")
                )
                assert response.status_code == 201, response.text
                held = response.json()
                path = f"/api/v1/bookings/{held['manage_url'].rsplit('/', 1)[1]}/payment"
                page = (await http.get(path)).json()
                saved = await asyncio.to_thread(
                    stripe.save_card, page["setup_client_secret"], CARD_OK
                )
                return path, saved["id"]

            samples = []
            for start in starts[:SEQUENTIAL]:
                path, setup_intent = await ready(start)
                t0 = time.perf_counter()
                answer = await http.post(path, json={"setup_intent": setup_intent})
                samples.append(time.perf_counter() - t0)
                body = answer.json()
                assert body["status"] == "succeeded", body
                assert body["booking"]["status"] == "confirmed"
            one = summarize(samples[5:])
            rows.append(
                (
                    backend,
                    f"`POST …/payment`, saved card to confirmed booking ({one.n} in a row)",
                    f"p50 {ms(one.p50)} ms, p99 {ms(one.p99)} ms",
                )
            )

            prepared = [await ready(start) for start in starts[SEQUENTIAL:][:CONCURRENT]]
            timings: list[float] = []

            async def pay(path: str, setup_intent: str) -> Any:
                t0 = time.perf_counter()
                answer = await http.post(path, json={"setup_intent": setup_intent})
                timings.append(time.perf_counter() - t0)
                return answer

            t0 = time.perf_counter()
            answers = await asyncio.gather(*(pay(p, s) for p, s in prepared))
            wall = time.perf_counter() - t0
            confirmed = sum(
                1
                for a in answers
                if a.status_code == 200 and a.json()["booking"]["status"] == "confirmed"
            )
            references = [a.json()["booking"]["reference"] for a in answers]
            charges = [len(stripe.charges(r)) for r in references]
            assert confirmed == CONCURRENT, confirmed
            assert charges == [1] * CONCURRENT, charges
            many = summarize(timings, wall)
            rows.append(
                (
                    backend,
                    f"{CONCURRENT} `POST …/payment` at once, 50 bookings",
                    f"all {confirmed} confirmed, each charged once; wall {wall:.2f} s, "
                    f"p50 {ms(many.p50)} ms, p99 {ms(many.p99)} ms",
                )
            )
    finally:
        await close_pool(engine)
        if drop:
            admin = await asyncpg.connect(url)
            await admin.execute(drop)
            await admin.close()
    return rows


def section(rows: list[tuple[str, str, str]]) -> str:
    lines = [
        "",
        HEADING,
        "",
        f"Tool: `python -m tests.benchmarks.payments`; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores (shared), Python {sys.version.split()[0]}; "
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Requests through the ASGI app in process; "
        "Stripe is localstripe 1.15.10 in a subprocess, emptied before each database (it "
        "pickles its whole store to disk after every write, so its share grows with the run; "
        "it serves one request at a time).",
        "",
        "| database | what | figures |",
        "|---|---|---|",
        *(f"| {backend} | {what} | {figures} |" for backend, what, figures in rows),
        "",
        "Each pay request retrieves the SetupIntent, creates and confirms the PaymentIntent "
        "and confirms the booking with its invitations, all under the booking's payment lock; "
        "on SQLite that lock is the one writer of BEGIN IMMEDIATE, so the 50 run one after "
        "another while Stripe is called, on PostgreSQL only per booking. The emulator answers "
        "one request at a time and each pay makes two calls to it, so the 50 at once are "
        "bounded by it, not by the database.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import httpx

    from booking.core.settings import initialise_from_env
    from booking.payments.emulator import start_localstripe

    args = sys.argv[1:] if argv is None else argv
    initialise_from_env()
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    emulator = start_localstripe()
    rows: list[tuple[str, str, str]] = []
    try:
        for backend in ("sqlite", "postgres") if url else ("sqlite",):
            # Each database starts on an empty emulator: its store (pickled after every
            # write) would otherwise weigh on the second run.
            httpx.delete(f"{emulator.api_base}/_config/data", timeout=10).raise_for_status()
            rows.extend(asyncio.run(run(backend, url, emulator)))
    finally:
        emulator.stop()
    text = section(rows)
    print(text)
    if "--append" in args:
        with REPORT.open("a") as report:
            report.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
