"""`python -m tests.benchmarks.review_pages [--bookings N] [--runs R]`: the admin's review
pages over HTTP, as a browser asks for them: the queue's first page over N bookings, one
couple's page, its export, and the audit log filtered to that booking.

Requests go through the ASGI app in this process, signed in as an admin through the real
sign-in pages (password and second factor). SQLite always; PostgreSQL too when
BENCH_DATABASE_URL or TEST_DATABASE_URL names a server (a database of its own, dropped at the
end). Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import time
from typing import Any

from tests.benchmarks import standalone
from tests.benchmarks.review import NOW, _analyze, _seed

HTML = {"accept": "text/html"}


def main(argv: list[str] | None = None) -> int:
    return standalone.run(
        "review_pages",
        "| database | page | figures |",
        [("pages", _pages)],
        argv,
        runs=30,
        RATE_LIMIT_PER_MINUTE="1000000",
    )


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
