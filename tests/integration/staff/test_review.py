"""A booking as the admin reviews it: both parts side by side, notes kept encrypted, the
safety follow-up, a fresh intake link; every read audited, one row per record read."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.bookings.tables import Booking
from booking.core.audit import AuditEvent
from booking.core.crypto import Keyring, key_id_of
from booking.core.errors import NotFound, ValidationFailed
from booking.core.settings import get_settings
from booking.notifications.tables import OutboxMessage
from booking.staff.access import Origin
from booking.staff.notes import NoteService, rotate_note_keys
from booking.staff.tables import ReviewNote
from tests.factories import ALL_CONSENTS, DISTINCTIVE, booking_request, partner_answers
from tests.integration.practice import AT_10, Practice, intake_token
from tests.integration.staff.conftest import ADMIN, Staff, book, therapist_principal

NOTE = f"Called back; prefers evenings. {DISTINCTIVE}"


async def answered_by_both(client: AsyncTestClient[Any], *, flagged: bool = False) -> str:
    body = booking_request(AT_10)
    body["intake"]["booker"] = partner_answers(hoped_for_change="Booker's own words")
    response = await client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.text
    reference = str(response.json()["reference"])
    second = partner_answers(
        hoped_for_change="Second partner's own words",
        safe_at_home="not_sure" if flagged else "yes",
    )
    answered = await client.post(
        f"/api/v1/intake/{intake_token(reference, 2)}",
        json={"answers": second, "consents": ALL_CONSENTS},
    )
    assert answered.status_code == 200, answered.text
    return reference


async def viewed_records(reference: str) -> list[str]:
    rows = await (
        AuditEvent.select(AuditEvent.record)
        .where((AuditEvent.action == "intake.viewed") & (AuditEvent.booking_reference == reference))
        .order_by(AuditEvent._meta.primary_key)
    )
    return [r["record"] for r in rows]


async def test_the_page_shows_both_private_parts_and_audits_each_record_read(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    reference = await answered_by_both(client)
    await staff.notes.add(ADMIN, reference, NOTE)

    page = await staff.review.open(ADMIN, reference)

    case = page.case
    assert case.couple_answers is not None
    assert case.couple_answers["hoped_for_help"].startswith("We keep having")
    first, second = case.partners
    assert (first.name, first.answers and first.answers["hoped_for_change"]) == (
        "Robin Park",
        "Booker's own words",
    )
    assert (second.name, second.answers and second.answers["hoped_for_change"]) == (
        "Sam Park",
        "Second partner's own words",
    )
    assert [n.text for n in case.notes] == [NOTE]
    note_id = case.notes[0].id
    assert await viewed_records(reference) == [
        "couple",
        "partner:1",
        "partner:2",
        f"note:{note_id}",
    ]
    # The page's history includes this very view.
    assert [e.action for e in page.history][-4:] == ["intake.viewed"] * 4


async def test_a_part_not_yet_answered_is_not_a_record_read(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    booked = await book(client, AT_10)

    page = await staff.review.open(ADMIN, booked["reference"])

    assert page.case.partners[1].answers is None
    assert page.case.partners[1].complete is False
    assert await viewed_records(booked["reference"]) == ["couple", "partner:1"]


async def test_notes_are_encrypted_at_rest_and_audited_without_their_text(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    booked = await book(client, AT_10)

    note = await staff.notes.add(ADMIN, booked["reference"], f"  {NOTE}  ")

    assert note.text == NOTE
    (stored,) = await ReviewNote.select(ReviewNote.body, ReviewNote.author)
    assert DISTINCTIVE not in stored["body"]
    assert stored["author"] == "staff:1"
    (event,) = await AuditEvent.select(AuditEvent.actor, AuditEvent.record).where(
        AuditEvent.action == "note.added"
    )
    assert event == {"actor": "staff:1", "record": f"note:{note.id}"}
    for bad in ("   ", "x" * 5001):
        with pytest.raises(ValidationFailed):
            await staff.notes.add(ADMIN, booked["reference"], bad)
    with pytest.raises(NotFound):
        await staff.notes.add(ADMIN, "NOPE-NOPE", "hello")


async def test_resolving_the_safety_flag_takes_the_booking_off_the_top(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    reference = await answered_by_both(client, flagged=True)
    assert (await staff.queue.page(ADMIN)).entries[0].safety_flag is True

    assert await staff.review.resolve_safety_flag(ADMIN, reference) is True
    assert await staff.review.resolve_safety_flag(ADMIN, reference) is False

    assert (await staff.queue.page(ADMIN)).entries[0].safety_flag is False
    row = await Booking.select(Booking.safety_resolved_by).first()
    assert row == {"safety_resolved_by": "staff:1"}


async def test_a_fresh_intake_link_replaces_the_old_one(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    booked = await book(client, AT_10)
    reference = booked["reference"]
    old = intake_token(reference, 2)

    renewed = await staff.review.fresh_intake_link(ADMIN, reference, 2)

    assert renewed.generation == 1
    assert (await client.get(f"/api/v1/intake/{old}")).status_code == 404
    new = intake_token(reference, 2, generation=1)
    assert (await client.get(f"/api/v1/intake/{new}")).status_code == 200
    queued = await OutboxMessage.select(OutboxMessage.kind, OutboxMessage.recipient).where(
        OutboxMessage.kind == "new_intake_link"
    )
    assert queued == [{"kind": "new_intake_link", "recipient": "partner:2"}]
    (event,) = await AuditEvent.select(AuditEvent.actor, AuditEvent.record).where(
        AuditEvent.action == "link.revoked"
    )
    assert event == {"actor": "staff:1", "record": "partner:2 intake link"}


async def test_a_therapist_reaches_none_of_the_review(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    reference = await answered_by_both(client, flagged=True)
    therapist = therapist_principal(practice.therapist_id)

    for attempt in (
        staff.review.open(therapist, reference),
        staff.review.resolve_safety_flag(therapist, reference),
        staff.review.fresh_intake_link(therapist, reference, 2),
        staff.review.revoke_manage_link(therapist, reference),
        staff.review.reassign(therapist, reference, "ana"),
        staff.review.cancel(therapist, reference),
        staff.notes.add(therapist, reference, "hello"),
        staff.export.export(therapist, reference),
        staff.erase.erase(therapist, reference, reference),
    ):
        with pytest.raises(NotFound):
            await attempt
    assert await viewed_records(reference) == []
    assert await AuditEvent.count().where(AuditEvent.actor == "staff:2") == 0


async def test_rotating_keys_reencrypts_notes_and_they_read_under_the_new_key_alone(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    booked = await book(client, AT_10)
    await staff.notes.add(ADMIN, booked["reference"], NOTE)
    old = (get_settings().data_dir / "data_key").read_text().strip()
    new = f"k2027:{Keyring.generate_key()}"

    assert await rotate_note_keys(Keyring.parse(f"{new},{old}")) == 1
    assert await rotate_note_keys(Keyring.parse(f"{new},{old}")) == 0  # nothing left to do

    (stored,) = await ReviewNote.select(ReviewNote.body)
    assert key_id_of(stored["body"]) == "k2027"
    booking = await Booking.select(Booking._meta.primary_key).first()
    assert booking is not None
    booking_id = booking["id"]
    notes = await NoteService(Keyring.parse(new), staff.notes.clock).read_all(
        booking_id, booked["reference"]
    )
    assert [n.text for n in notes] == [NOTE]


async def test_a_review_action_is_audited_with_its_address_and_browser(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    booked = await book(client, AT_10)

    await staff.notes.add(
        ADMIN, booked["reference"], NOTE, Origin(client="digest-1", agent="Firefox/140.0")
    )

    (event,) = await AuditEvent.select(AuditEvent.client_address, AuditEvent.user_agent).where(
        AuditEvent.action == "note.added"
    )
    assert event == {"client_address": "digest-1", "user_agent": "Firefox/140.0"}
