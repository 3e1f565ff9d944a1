"""The workspace's two figures: a therapist's home page with 100 consultations in its two
weeks, and the round trip from saving hours to the public availability that shows them.

`python -m tests.benchmarks.workspace` (after `make install`): SQLite always, PostgreSQL too
when BENCH_DATABASE_URL or TEST_DATABASE_URL names a server (a database of its own, dropped
after). Prints the figures; docs/benchmarks.md records them. Requests go through the ASGI app
in this process, signed in through the real sign-in pages.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

WORK = Path(tempfile.mkdtemp(prefix="booking-bench-ws-"))
os.environ.update(
    BOOKING_ENV="test",
    BOOKING_DATA_DIR=str(WORK / "app"),
    LOG_LEVEL="WARNING",
    HOLD_SWEEP_SECONDS="0",
    BOOKING_EMBEDDED_WORKER="0",
    RATE_LIMIT_PER_MINUTE="1000000",
)
os.environ.pop("DATABASE_URL", None)

CONSULTATIONS = 100
ROUNDS = 60
NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)


async def run(backend: str, url: str | None) -> list[str]:
    import asyncpg
    import httpx

    from booking.bookings.tables import Booking, Partner
    from booking.core.db import close_pool, open_pool, postgres_engine, sqlite_engine
    from booking.core.settings import Settings
    from booking.piccolo_app import migrate, use_engine
    from booking.web.app import create_app
    from tests.asgi import asgi_transport
    from tests.benchmarks.stats import summarize
    from tests.factories import make_therapist, make_type
    from tests.staff_support import csrf_token, sign_in

    drop = None
    if backend == "sqlite":
        engine: Any = sqlite_engine(str(WORK / "bench.sqlite3"))
    else:
        assert url is not None
        name = f"booking_bench_ws_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(url)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        engine = postgres_engine(urlunsplit(urlsplit(url)._replace(path=f"/{name}")))
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    lines: list[str] = []
    try:
        await migrate(engine)
        use_engine(engine)
        await open_pool(engine)
        free = await make_type("consult", min_notice_minutes=0)
        week = tuple((d, "08:00", "20:00") for d in range(7))
        ana = await make_therapist("ana", types=(free,), hours=week)
        start = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
        for i in range(CONSULTATIONS):
            at = start + timedelta(days=i % 14, hours=i // 14)
            (row,) = await Booking.insert(
                Booking(
                    reference=f"B{i:06d}",
                    therapist=ana,
                    consultation_type=free,
                    status="confirmed",
                    mode="video",
                    starts_at=at,
                    ends_at=at + timedelta(minutes=50),
                    blocked_until=at + timedelta(minutes=60),
                    safety_flag=i % 10 == 0,
                )
            ).returning(Booking._meta.primary_key)
            for position, who in ((1, "Robin Park"), (2, "Sam Park")):
                await Partner.insert(
                    Partner(booking=row["id"], position=position, name=who, email="x@example.org")
                )
        from tests.staff_support import create_staff

        login = await create_staff(therapist="ana")
        app = create_app(Settings.from_env(), engine, lambda: NOW)
        async with (
            app.lifespan(),
            httpx.AsyncClient(
                transport=asgi_transport(app), base_url="http://bench.local"
            ) as client,
        ):
            assert (await sign_in(client, login, at=NOW)).status_code == 303
            html = {"accept": "text/html"}
            samples = []
            for _ in range(ROUNDS):
                t0 = time.perf_counter()
                response = await client.get("/staff", headers=html)
                samples.append(time.perf_counter() - t0)
                assert response.status_code == 200
                assert response.text.count('class="card') >= CONSULTATIONS
            home = summarize(samples[10:])
            lines.append(
                f"{backend}: GET /staff with {CONSULTATIONS} consultations in two weeks: "
                f"p50 {home.p50 * 1000:.1f} ms, p99 {home.p99 * 1000:.1f} ms "
                f"({home.n} calls; each writes {CONSULTATIONS} audit rows)"
            )
            token = csrf_token((await client.get("/staff/hours", headers=html)).text)
            samples = []
            for i in range(ROUNDS // 2):
                end = f"{12 + i % 6:02d}:00"
                t0 = time.perf_counter()
                saved = await client.post(
                    "/staff/hours",
                    data={"_csrf_token": token, "day": "tue", "start": "09:00", "end": end},
                    headers=html,
                )
                times = await client.get(
                    "/api/v1/availability",
                    params={
                        "consultation_type": "consult",
                        "therapist": "ana",
                        "start": "2026-12-22",
                        "end": "2026-12-22",
                    },
                )
                samples.append(time.perf_counter() - t0)
                assert saved.status_code == 303, saved.text
                assert times.json()["slots"][-1]["end"][11:16] <= end
            trip = summarize(samples[5:])
            lines.append(
                f"{backend}: POST /staff/hours then GET /api/v1/availability showing it: "
                f"p50 {trip.p50 * 1000:.1f} ms, p99 {trip.p99 * 1000:.1f} ms ({trip.n} round trips)"
            )
    finally:
        await close_pool(engine)
        if drop:
            admin = await asyncpg.connect(url)
            await admin.execute(drop)
            await admin.close()
    return lines


def main() -> int:
    from booking.core.settings import initialise_from_env

    initialise_from_env()
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}"
    )
    for backend in ("sqlite", "postgres") if url else ("sqlite",):
        for line in asyncio.run(run(backend, url)):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
