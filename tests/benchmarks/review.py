"""`python -m tests.benchmarks.review [--bookings N]`: the admin review's phases.

- the queue's first page over N bookings (p50, p99), and that listing decrypts no answer
  (every Keyring.decrypt call is counted);
- one couple's export (both parts, three kept versions each, two notes);
- the retention purge of N expired intakes, in one run.

Each phase runs on SQLite and, when BENCH_DATABASE_URL or TEST_DATABASE_URL names a server,
on PostgreSQL (a database of its own, dropped at the end). Prints a Markdown section for
docs/benchmarks.md; the report of `python -m tests.benchmarks` is left alone.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.benchmarks import standalone

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
CHUNK = 500


def main(argv: list[str] | None = None) -> int:
    return standalone.run(
        "review",
        "| database | phase | figures |",
        [("queue", _queue_and_export), ("purge", _purge)],
        argv,
        runs=30,
    )


async def _queue_and_export(db: Any, backend: str, count: int, runs: int) -> list[str]:
    from booking.core.crypto import Keyring
    from booking.core.settings import get_settings
    from booking.piccolo_app import use_engine
    from booking.staff.export import ExportService
    from booking.staff.notes import NoteService
    from booking.staff.principal import Role, StaffPrincipal
    from booking.staff.queue import QueueFilter, ReviewQueue, ReviewStatus

    use_engine(db.engine)
    admin = StaffPrincipal(1, "admin@bench.example", "Admin", Role.ADMIN)
    practice = await _seed(count, ended=False)
    await _analyze(db)
    settings = get_settings()
    keyring = settings.keyring()

    decryptions = 0
    original = Keyring.decrypt

    def counting(self: Keyring, token: str, context: str) -> bytes:
        nonlocal decryptions
        decryptions += 1
        return original(self, token, context)

    queue = ReviewQueue(settings.practice_timezone, lambda: NOW)
    Keyring.decrypt = counting  # type: ignore[method-assign]
    try:
        first = await _timed(runs, lambda: queue.page(admin))
        filtered = await _timed(
            runs,
            lambda: queue.page(
                admin, QueueFilter(status=ReviewStatus.NEW, therapist=practice["slug"])
            ),
        )
        listed_decryptions = decryptions
        reference = practice["export_reference"]
        notes = NoteService(keyring, lambda: NOW)
        for text in ("Called back; evenings suit.", "Referred for individual work first."):
            await notes.add(admin, reference, text)
        export = ExportService(keyring, lambda: NOW)
        exported = await _timed(runs, lambda: export.export_json(admin, reference))
    finally:
        Keyring.decrypt = original  # type: ignore[method-assign]
    return [
        f"| {backend} | queue, first page of 50 over {count:,} bookings | "
        f"p50 {first[0]:.1f} ms, p99 {first[1]:.1f} ms; "
        f"answers decrypted: {listed_decryptions} |",
        f"| {backend} | queue, one therapist's new bookings | "
        f"p50 {filtered[0]:.1f} ms, p99 {filtered[1]:.1f} ms |",
        f"| {backend} | export of one couple (2 parts x 3 versions, 2 notes) | "
        f"p50 {exported[0]:.1f} ms, p99 {exported[1]:.1f} ms |",
    ]


async def _purge(db: Any, backend: str, count: int, runs: int) -> list[str]:
    from booking.intake.retention import purge_expired_intakes
    from booking.piccolo_app import use_engine

    use_engine(db.engine)
    await _seed(count, ended=True)
    await _analyze(db)
    started = time.perf_counter()
    purged = await purge_expired_intakes(NOW, 180)
    seconds = time.perf_counter() - started
    assert purged == count, (purged, count)
    return [
        f"| {backend} | purge of {count:,} expired intakes (answers, 2 versions each) | "
        f"{seconds:.2f} s, {1000 * seconds / count:.2f} ms a booking |"
    ]


async def _timed(runs: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    from tests.benchmarks.stats import percentile, summarize

    await call()  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return summarize(samples).p50 * 1000, percentile(samples, 0.99) * 1000


async def _analyze(db: Any) -> None:
    from booking.core.audit import AuditEvent

    await AuditEvent.raw("ANALYZE")


async def _seed(count: int, *, ended: bool) -> dict[str, Any]:
    """`count` bookings over five therapists, both partners answered (five in a hundred
    flagged); `ended`: cancelled 200 days ago, due for the purge. Returns one reference for
    the export (three versions per partner) and a therapist's slug."""
    from booking.bookings.contexts import couple_context, partner_context
    from booking.bookings.tables import Booking, Partner
    from booking.core.settings import get_settings
    from booking.intake.tables import AnswerVersion
    from booking.intake.versions import version_context
    from tests.factories import couple_answers, make_therapist, make_type, partner_answers

    keyring = get_settings().keyring()
    type_id = await make_type("consult")
    therapists = [await make_therapist(f"t{n}", types=(type_id,)) for n in range(5)]
    couple = couple_answers()
    private = partner_answers()
    base = NOW - timedelta(days=200) if ended else NOW + timedelta(days=1)
    for start in range(0, count, CHUNK):
        numbers = range(start, min(start + CHUNK, count))
        bookings = []
        for n in numbers:
            reference = f"B{n:07d}"
            # Ended ones go back in time from `base`, upcoming ones forward from it.
            starts = base + timedelta(minutes=-60 * n if ended else 60 * n)
            bookings.append(
                Booking(
                    reference=reference,
                    therapist=therapists[n % len(therapists)],
                    consultation_type=type_id,
                    status="cancelled" if ended else "confirmed",
                    mode="video",
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=50),
                    blocked_until=starts + timedelta(minutes=60),
                    cancelled_at=base - timedelta(days=1) if ended else None,
                    questionnaire_version="couples-2026-1",
                    couple_answers=keyring.encrypt_json(couple, couple_context(reference)),
                    safety_flag=n % 20 == 0,
                )
            )
        rows = await Booking.insert(*bookings).returning(
            Booking._meta.primary_key, Booking.reference
        )
        partners = [
            Partner(
                booking=row["id"],
                position=position,
                name=f"Partner {position} of {row['reference']}",
                email=f"p{position}.{row['reference'].lower()}@example.org",
                answers=keyring.encrypt_json(private, partner_context(row["reference"], position)),
                questionnaire_version="couples-2026-1",
                intake_completed_at=base - timedelta(days=2),
                consents={"purpose": "purpose-2026-1"},
            )
            for row in rows
            for position in (1, 2)
        ]
        saved = await Partner.insert(*partners).returning(
            Partner._meta.primary_key, Partner.booking, Partner.position
        )
        by_id = {row["id"]: row["reference"] for row in rows}
        export_id = rows[0]["id"] if start == 0 else None

        def kept(booking_id: int, export_id: int | None = export_id) -> int:
            # Every purged intake has two versions; the exported couple three each.
            return 2 if ended else (3 if booking_id == export_id else 0)

        versions = [
            AnswerVersion(
                booking=p["booking"],
                partner=p["id"],
                position=p["position"],
                number=number,
                answers=keyring.encrypt_json(
                    private, version_context(by_id[p["booking"]], p["position"], number)
                ),
                questionnaire_version="couples-2026-1",
                submitted_at=base - timedelta(days=3),
            )
            for p in saved
            for number in range(1, kept(p["booking"]) + 1)
        ]
        if versions:
            await AnswerVersion.insert(*versions)
    return {"export_reference": "B0000000", "slug": "t1"}


if __name__ == "__main__":
    raise SystemExit(main())
