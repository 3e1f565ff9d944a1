"""Retention: intake answers of consultations that never took place are deleted after the
period the privacy notice promises, and nothing else is touched."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from booking.bookings.contexts import cancel_reason_context, couple_context, partner_context
from booking.bookings.tables import Booking, Partner
from booking.core.audit import AuditEvent
from booking.core.db import close_pool, sqlite_engine
from booking.core.settings import Settings, get_settings
from booking.core.timezones import utc_now
from booking.intake.retention import purge_expired_intakes
from booking.intake.tables import AnswerVersion
from booking.intake.versions import add_answer_version
from booking.piccolo_app import use_engine
from booking.worker import EmbeddedWorker
from tests.factories import ALL_CONSENTS, couple_answers, partner_answers
from tests.fixtures.databases import Database
from tests.integration.conftest import NOW, FixedClock
from tests.integration.practice import Practice, make_practice
from tests.integration.test_cli import run
from tests.waiting import eventually

DAYS = timedelta(days=1)


async def seed_booking(
    practice: Practice,
    reference: str,
    status: str,
    ended: timedelta,
    cancelled: timedelta | None = None,
    now: datetime = NOW,
) -> None:
    """A booking of two partners who both answered, ended `ended` before `now` (negative: in
    the future), cancelled `cancelled` before `now`."""
    keyring = get_settings().keyring()
    ends_at = now - ended
    (row,) = await Booking.insert(
        Booking(
            reference=reference,
            therapist=practice.therapist_id,
            consultation_type=practice.type_id,
            status=status,
            mode="phone",
            starts_at=ends_at - timedelta(minutes=50),
            ends_at=ends_at,
            blocked_until=ends_at + timedelta(minutes=10),
            created_at=ends_at - 10 * DAYS,
            updated_at=ends_at - 5 * DAYS,
            questionnaire_version="couples-2026-1",
            couple_answers=keyring.encrypt_json(couple_answers(), couple_context(reference)),
            safety_flag=True,
            cancelled_at=None if cancelled is None else now - cancelled,
            cancel_reason_encrypted=keyring.encrypt(
                b"We found a therapist closer to home.", cancel_reason_context(reference)
            )
            if cancelled
            else None,
        )
    ).returning(Booking._meta.primary_key)
    for position, name in ((1, "Robin Park"), (2, "Sam Park")):
        (partner,) = await Partner.insert(
            Partner(
                booking=row["id"],
                position=position,
                name=name,
                email=f"{name.split()[0].lower()}@example.org",
                phone="416-555-0100",
                pronouns="they/them",
                answers=keyring.encrypt_json(
                    partner_answers(safe_at_home="not_sure"),
                    partner_context(reference, position),
                ),
                questionnaire_version="couples-2026-1",
                intake_completed_at=ends_at - 9 * DAYS,
                safety_flag=position == 1,
                consents={text: "v-2026-1" for text in ALL_CONSENTS},
                consented_at=ends_at - 9 * DAYS,
            )
        ).returning(Partner._meta.primary_key)
        for answer in ("not_sure", "yes"):
            await add_answer_version(
                keyring,
                booking_id=row["id"],
                partner_id=partner["id"],
                reference=reference,
                position=position,
                answers=partner_answers(safe_at_home=answer),
                questionnaire_version="couples-2026-1",
                flagged=answer == "not_sure",
                now=ends_at - 9 * DAYS,
            )


# reference -> (status, ended before NOW, cancelled before NOW, purged?)
CASES: dict[str, tuple[str, timedelta, timedelta | None, bool]] = {
    "CONF-PAST": ("confirmed", 400 * DAYS, None, False),
    "DONE-PAST": ("completed", 400 * DAYS, None, False),
    "CANC-0181": ("cancelled", 181 * DAYS, 182 * DAYS, True),
    "CANC-0179": ("cancelled", 179 * DAYS, 179 * DAYS + timedelta(hours=1), False),
    # Cancelled long ago, for a time that ended more recently: it counts from the later.
    "CANC-LATE": ("cancelled", 179 * DAYS, 200 * DAYS, False),
    "CANC-FUTR": ("cancelled", -5 * DAYS, 2 * DAYS, False),
    "EXPD-0181": ("expired", 181 * DAYS, None, True),
    "EXPD-0100": ("expired", 100 * DAYS, None, False),
    "NOSH-0181": ("no_show", 181 * DAYS, None, True),
    "NOSH-0179": ("no_show", 179 * DAYS, None, False),
}
PURGED = {reference for reference, case in CASES.items() if case[3]}


async def seed_every_case(practice: Practice) -> None:
    for reference, (status, ended, cancelled, _) in CASES.items():
        await seed_booking(practice, reference, status, ended, cancelled)


async def snapshot() -> dict[str, dict[str, Any]]:
    """Every stored value of every booking and its partners, by booking reference."""
    bookings = await Booking.select().order_by(Booking.reference)
    partners = await Partner.select().order_by(Partner.booking, Partner.position)
    versions = await AnswerVersion.select().order_by(AnswerVersion._meta.primary_key)
    return {
        booking["reference"]: {
            "booking": booking,
            "partners": [p for p in partners if p["booking"] == booking["id"]],
            "versions": [v for v in versions if v["booking"] == booking["id"]],
        }
        for booking in bookings
    }


async def purge_events() -> list[dict[str, Any]]:
    return list(
        await AuditEvent.select(
            AuditEvent.actor, AuditEvent.action, AuditEvent.booking_reference, AuditEvent.at
        )
        .where(AuditEvent.action == "intake.purged")
        .order_by(AuditEvent.booking_reference)
    )


async def test_the_purge_deletes_only_the_answers_of_consultations_that_never_took_place(
    database: Database, practice: Practice
) -> None:
    await seed_every_case(practice)
    before = await snapshot()

    purged = await purge_expired_intakes(NOW, retention_days=180)

    after = await snapshot()
    assert purged == len(PURGED)
    for reference in CASES.keys() - PURGED:
        assert after[reference] == before[reference], reference
    for reference in PURGED:
        booking, old = after[reference]["booking"], before[reference]["booking"]
        assert booking["couple_answers"] is None
        assert booking["cancel_reason_encrypted"] is None
        assert booking["intake_purged_at"] == NOW
        assert before[reference]["versions"]
        assert after[reference]["versions"] == []
        unchanged = booking.keys() - {
            "couple_answers",
            "cancel_reason_encrypted",
            "intake_purged_at",
            "updated_at",
        }
        assert {k: booking[k] for k in unchanged} == {k: old[k] for k in unchanged}
        for partner, was in zip(
            after[reference]["partners"], before[reference]["partners"], strict=True
        ):
            assert partner["answers"] is None
            assert {**partner, "answers": was["answers"]} == was  # names, consents, flags kept
    assert await purge_events() == [
        {"actor": "system", "action": "intake.purged", "booking_reference": r, "at": NOW}
        for r in sorted(PURGED)
    ]


async def test_running_the_purge_again_changes_nothing(
    database: Database, practice: Practice
) -> None:
    await seed_every_case(practice)
    await purge_expired_intakes(NOW, retention_days=180)
    once, events = await snapshot(), await purge_events()

    again = await purge_expired_intakes(NOW + DAYS, retention_days=180)

    assert again == 0
    assert await snapshot() == once
    assert await purge_events() == events


async def test_the_retention_period_is_a_setting(database: Database, practice: Practice) -> None:
    await seed_every_case(practice)

    purged = await purge_expired_intakes(NOW, retention_days=90)

    # Every one that never took place and ended over 90 days ago; none of the others.
    due = {
        "CANC-0181",
        "CANC-0179",
        "CANC-LATE",
        "EXPD-0181",
        "EXPD-0100",
        "NOSH-0181",
        "NOSH-0179",
    }
    assert purged == len(due)
    assert {e["booking_reference"] for e in await purge_events()} == due


async def test_the_in_process_worker_purges_when_it_starts(
    database: Database, practice: Practice, clock: FixedClock
) -> None:
    await seed_booking(practice, "EXPD-0181", "expired", 181 * DAYS)
    await seed_booking(practice, "EXPD-0100", "expired", 100 * DAYS)
    settings = Settings.from_env(
        {**os.environ, "INTAKE_RETENTION_DAYS": "150", "OUTBOX_POLL_SECONDS": "0.05"}
    )
    worker = EmbeddedWorker(settings, database.engine, clock)

    worker.start()
    try:
        events = await eventually(purge_events)
    finally:
        await asyncio.to_thread(worker.stop)

    assert [e["booking_reference"] for e in events] == ["EXPD-0181"]
    kept = (await snapshot())["EXPD-0100"]
    assert kept["booking"]["couple_answers"] is not None
    assert all(p["answers"] is not None for p in kept["partners"])


async def test_booking_purge_says_how_many_and_purges_once(tmp_path: Path) -> None:
    assert run(tmp_path, "init").returncode == 0
    assert run(tmp_path, "migrate").returncode == 0
    engine = sqlite_engine(str(tmp_path / "booking.sqlite3"))
    use_engine(engine)
    try:
        practice = await make_practice()
        now = utc_now()
        await seed_booking(practice, "CANC-0181", "cancelled", 181 * DAYS, 182 * DAYS, now)
        await seed_booking(practice, "CANC-0179", "cancelled", 179 * DAYS, 180 * DAYS, now)
    finally:
        await close_pool(engine)

    first = run(tmp_path, "purge")
    second = run(tmp_path, "purge")

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "Purged the intake answers of 1 booking (older than 180 days)."
    assert second.stdout.strip() == "Purged the intake answers of 0 bookings (older than 180 days)."
    with sqlite3.connect(tmp_path / "booking.sqlite3") as db:
        kept = dict(db.execute("SELECT reference, couple_answers IS NOT NULL FROM bookings"))
        actions = db.execute("SELECT actor, action, booking_reference FROM audit_events").fetchall()
    assert kept == {"CANC-0181": 0, "CANC-0179": 1}
    assert actions == [("system", "intake.purged", "CANC-0181")]
