"""A couple's data on request: the export holds all of it, decrypted, audited record by record;
the erasure leaves it nowhere in the database (the raw SQLite file, a pg_dump), kills every
link, and keeps an anonymous stub for the accounts."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.bookings.tables import Booking, IdempotencyKey, Partner
from booking.core.audit import AuditEvent
from booking.core.errors import NotFound, TooEarly, ValidationFailed
from booking.intake.consents import load_consents
from booking.intake.tables import AnswerVersion
from booking.notifications.tables import OutboxMessage
from booking.staff.queue import ReviewStatus
from booking.staff.tables import ReviewNote
from tests.factories import ALL_CONSENTS, booking_request, partner_answers
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, Practice, intake_token, manage_token
from tests.integration.staff.conftest import ADMIN, Staff

HTML = {"Accept": "text/html"}
# What must be nowhere once erased: names, an email, a phone number, pronouns.
CANARIES = ("Zephyrine Quillfeather", "zq.canary@example.org", "416-555-0199", "xe/xem")
NOTE = "Prefers to be called after six."
REASON = "We found someone closer to home."


async def a_booking_with_everything(client: AsyncTestClient[Any], staff: Staff) -> dict[str, Any]:
    """Booked (with an Idempotency-Key), both parts answered (the second twice), a note, then
    cancelled with a reason: every kind of data a booking can hold."""
    body = booking_request(AT_10)
    body["partners"][1] = {
        "name": CANARIES[0],
        "email": CANARIES[1],
        "phone": CANARIES[2],
        "pronouns": CANARIES[3],
    }
    response = await client.post(
        "/api/v1/bookings", json=body, headers={"Idempotency-Key": "erase-test-0001"}
    )
    assert response.status_code == 201, response.text
    booked = dict(response.json())
    token = intake_token(booked["reference"], 2)
    for words in ("First thoughts", "Second thoughts"):
        answered = await client.post(
            f"/api/v1/intake/{token}",
            json={"answers": partner_answers(hoped_for_change=words), "consents": ALL_CONSENTS},
        )
        assert answered.status_code == 200, answered.text
    await staff.notes.add(ADMIN, booked["reference"], NOTE)
    return booked


async def cancel(client: AsyncTestClient[Any], booked: dict[str, Any]) -> None:
    cancelled = await client.post(
        f"/api/v1/bookings/{manage_token(booked['manage_url'])}/cancel", json={"reason": REASON}
    )
    assert cancelled.status_code == 200, cancelled.text


async def test_the_export_holds_every_answer_consent_note_and_the_trail(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    booked = await a_booking_with_everything(client, staff)
    await cancel(client, booked)
    reference = booked["reference"]

    exported = json.loads(await staff.export.export_json(ADMIN, reference))

    assert exported["booking"]["reference"] == reference
    assert exported["booking"]["status"] == "cancelled"
    assert exported["booking"]["cancel_reason"] == REASON
    assert exported["couple"]["answers"]["hoped_for_help"].startswith("We keep having")
    first, second = exported["partners"]
    assert first["name"] == "Robin Park"
    assert second["email"] == CANARIES[1]
    assert second["answers"]["hoped_for_change"] == "Second thoughts"
    assert [v["answers"]["hoped_for_change"] for v in second["answer_versions"]] == [
        "First thoughts",
        "Second thoughts",
    ]
    texts = load_consents()
    assert {c["id"]: c["version"] for c in second["consents"]} == {
        c.id: c.version for c in texts.values()
    }
    assert all(c["text"] == texts[c["id"]].text for c in second["consents"])
    assert [n["text"] for n in exported["notes"]] == [NOTE]
    assert exported["payments"] == []
    trail = [e["action"] for e in exported["audit_trail"]]
    assert trail[:1] == ["intake.submitted"]
    assert "booking.cancelled" in trail
    assert "note.added" in trail
    # Audited: one row per record read, the export's own rows at the end of its trail.
    rows = await (
        AuditEvent.select(AuditEvent.record)
        .where(AuditEvent.action == "booking.exported")
        .order_by(AuditEvent._meta.primary_key)
    )
    (note,) = await ReviewNote.select(ReviewNote._meta.primary_key)
    assert [r["record"] for r in rows] == [
        "booking",
        "couple",
        "partner:1",
        "partner:2",
        f"note:{note['id']}",
        "cancel reason",
    ]
    assert trail[-6:] == ["booking.exported"] * 6


async def test_a_consultation_still_to_come_is_not_erased(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    booked = await a_booking_with_everything(client, staff)
    reference = booked["reference"]

    with pytest.raises(ValidationFailed) as mistyped:
        await staff.erase.erase(ADMIN, reference, "ABCD-EFGH")
    with pytest.raises(TooEarly):
        await staff.erase.erase(ADMIN, reference, reference.lower())
    with pytest.raises(NotFound):
        await staff.erase.erase(ADMIN, "NOPE-NOPE", "NOPE-NOPE")

    assert mistyped.value.fields[0].field == "confirm"
    assert await Partner.count().where(Partner.email == CANARIES[1]) == 1
    # Cancelled by the practice first, the couple and the therapist are told; then it goes.
    cancelled = await staff.review.cancel(ADMIN, reference)
    assert cancelled.status == "cancelled"
    queued = await OutboxMessage.select(OutboxMessage.recipient).where(
        (OutboxMessage.kind == "cancellation") & (OutboxMessage.status == "pending")
    )
    assert sorted(r["recipient"] for r in queued) == ["partner:1", "partner:2"]
    (event,) = await AuditEvent.select(AuditEvent.actor).where(
        AuditEvent.action == "booking.cancelled"
    )
    assert event == {"actor": "staff:1"}
    assert (await staff.erase.erase(ADMIN, reference, reference)).now is True


async def database_text(database: Database) -> str:
    """Everything the database's files hold, as text: the raw SQLite file and its log, or a
    pg_dump of the whole PostgreSQL database."""
    if database.url is None:
        path = Path(database.sqlite_path)
        files = [path, path.with_name(path.name + "-wal")]
        return "".join(f.read_bytes().decode("latin-1") for f in files if f.exists())
    dumped = await asyncio.to_thread(
        subprocess.run,
        ["pg_dump", "--no-owner", database.url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dumped.returncode == 0, dumped.stderr
    return dumped.stdout


async def test_an_erased_booking_is_nowhere_and_its_links_are_dead(
    client: AsyncTestClient[Any],
    practice: Practice,
    staff: Staff,
    database: Database,
    clock: FixedClock,
) -> None:
    booked = await a_booking_with_everything(client, staff)
    await cancel(client, booked)
    reference = booked["reference"]
    await staff.queue.set_status(ADMIN, reference, ReviewStatus.CLOSED)
    before = await database_text(database)
    assert all(canary in before for canary in CANARIES)  # the check can see them
    assert await OutboxMessage.count().where(OutboxMessage.status == "pending") > 0

    erased = await staff.erase.erase(ADMIN, reference, reference.lower())
    again = await staff.erase.erase(ADMIN, reference, reference)

    assert (erased.now, again.now) == (True, False)
    after = await database_text(database)
    for canary in (*CANARIES, "Robin Park", "robin@example.org"):
        assert canary not in after, canary
    # Every link of the booking is dead, on the API and on the pages.
    manage = manage_token(booked["manage_url"])
    for path in (f"/api/v1/bookings/{manage}", f"/manage/{manage}"):
        assert (await client.get(path, headers=HTML)).status_code == 404, path
    for position in (1, 2):
        for generation in (0, 1):
            token = intake_token(reference, position, generation)
            for path in (f"/api/v1/intake/{token}", f"/intake/{token}"):
                assert (await client.get(path, headers=HTML)).status_code == 404, path
    # Nothing left to send, no answer, no note, no stored API answer.
    assert await OutboxMessage.count().where(OutboxMessage.status == "pending") == 0
    assert await AnswerVersion.count() == 0
    assert await ReviewNote.count() == 0
    assert await IdempotencyKey.count() == 0
    # The stub the accounts keep.
    stub = await Booking.select(
        Booking.reference,
        Booking.status,
        Booking.starts_at,
        Booking.couple_answers,
        Booking.cancel_reason_encrypted,
        Booking.erased_at,
    ).first()
    assert stub is not None
    assert (stub["reference"], stub["status"], stub["erased_at"]) == (
        reference,
        "cancelled",
        clock.now,
    )
    assert stub["couple_answers"] is None
    assert stub["cancel_reason_encrypted"] is None
    assert (await staff.queue.page(ADMIN)).entries == []
    with pytest.raises(NotFound):
        await staff.review.fresh_intake_link(ADMIN, reference, 2)
    events = await AuditEvent.select(AuditEvent.actor, AuditEvent.record).where(
        AuditEvent.action == "booking.erased"
    )
    assert events == [{"actor": "staff:1", "record": "couple+partners+notes+messages"}]
    # The export of a stub holds no one.
    exported = json.loads(await staff.export.export_json(ADMIN, reference))
    assert [p["name"] for p in exported["partners"]] == ["", ""]
    assert exported["booking"]["erased_at"] is not None
