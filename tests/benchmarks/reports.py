"""`python -m tests.benchmarks.reports [--bookings N]`: the admin's reports page.

N bookings spread over the year before NOW (statuses mixed as a practice's are: most
completed, some cancelled, a few no-shows; most couples both answered), then:

- the reports over a month and over the whole year (`ReportService.reports`: the query,
  the counting and the four pygal charts), p50 and p99;
- `GET /staff/reports` for the year through the application in process, signed in as an
  admin through the real sign-in pages (the page with its four `data:` images).

Each phase runs on SQLite and, when BENCH_DATABASE_URL or TEST_DATABASE_URL names a server,
on PostgreSQL (a database of its own, dropped at the end). Prints a Markdown section for
docs/benchmarks.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.benchmarks import standalone
from tests.benchmarks.review import _analyze, _timed

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
CHUNK = 500
STATUSES = ("completed",) * 14 + ("cancelled",) * 4 + ("no_show",) * 2


def main(argv: list[str] | None = None) -> int:
    return standalone.run(
        "reports",
        "| database | what | p50 ms | p99 ms |",
        [("reports", _reports)],
        argv,
        runs=20,
        RATE_LIMIT_PER_MINUTE="100000",
    )


async def _reports(db: Any, backend: str, count: int, runs: int) -> list[str]:
    from litestar.testing import AsyncTestClient

    from booking.core.settings import Settings
    from booking.piccolo_app import use_engine
    from booking.staff.principal import Role, StaffPrincipal
    from booking.staff.reports import ReportService
    from booking.web.app import create_app
    from tests.staff_support import create_staff, sign_in

    use_engine(db.engine)
    await _seed(count)
    await _analyze(db)
    settings = Settings.from_env()
    admin = StaffPrincipal(1, "admin@bench.example", "Admin", Role.ADMIN)
    service = ReportService(settings.practice_timezone, lambda: NOW)
    year = (date(2025, 12, 3), date(2026, 12, 2))
    month = await _timed(
        runs, lambda: service.reports(admin, date(2026, 11, 1), date(2026, 11, 30))
    )
    whole = await _timed(runs, lambda: service.reports(admin, *year))

    app = create_app(settings, db.engine, lambda: NOW)
    login = await create_staff(Role.ADMIN)
    async with AsyncTestClient(app, base_url="http://bench.local") as client:
        client.follow_redirects = False
        await sign_in(client, login, at=NOW)
        path = f"/staff/reports?from={year[0]}&to={year[1]}"

        async def page() -> None:
            response = await client.get(path, headers={"accept": "text/html"})
            if response.status_code != 200:
                raise RuntimeError(f"{path}: {response.status_code}")

        served = await _timed(runs, page)
    return [
        f"| {backend} | reports over one month (about {count // 12:,} bookings) | "
        f"{month[0]:.1f} | {month[1]:.1f} |",
        f"| {backend} | reports over a year ({count:,} bookings) | "
        f"{whole[0]:.1f} | {whole[1]:.1f} |",
        f"| {backend} | `GET /staff/reports` over the year, as an admin | "
        f"{served[0]:.1f} | {served[1]:.1f} |",
    ]


async def _seed(count: int) -> None:
    """`count` bookings, one every (365 days / count) back from NOW, both partners listed;
    nine in ten have both parts answered."""
    from booking.bookings.tables import Booking, Partner
    from tests.factories import make_therapist, make_type

    type_id = await make_type("consult")
    therapists = [await make_therapist(f"t{n}", types=(type_id,)) for n in range(5)]
    step = timedelta(days=365) / count
    for start in range(0, count, CHUNK):
        numbers = range(start, min(start + CHUNK, count))
        bookings = []
        for n in numbers:
            starts = NOW - step * (n + 1)
            bookings.append(
                Booking(
                    reference=f"R{n:07d}",
                    therapist=therapists[n % len(therapists)],
                    consultation_type=type_id,
                    status=STATUSES[n % len(STATUSES)],
                    mode="video",
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=50),
                    blocked_until=starts + timedelta(minutes=60),
                    created_at=starts - timedelta(days=n % 40),
                )
            )
        rows = await Booking.insert(*bookings).returning(Booking._meta.primary_key)
        await Partner.insert(
            *(
                Partner(
                    booking=row["id"],
                    position=position,
                    name=f"Partner {position}",
                    email=f"p{position}.{row['id']}@example.org",
                    intake_completed_at=None if (index % 10 == 0 and position == 2) else NOW,
                )
                for index, row in enumerate(rows)
                for position in (1, 2)
            )
        )


if __name__ == "__main__":
    raise SystemExit(main())
