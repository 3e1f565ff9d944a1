"""The review queue: safety flags first, then by time; filters and counts; statuses changed
with who and when; nothing decrypted for the list, and each booking listed is audited."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.bookings.tables import Booking
from booking.core.audit import AuditEvent
from booking.core.errors import NotFound, ValidationFailed
from booking.staff.queue import QueueFilter, ReviewStatus, parse_review_status
from tests.factories import booking_request, make_therapist, partner_answers
from tests.integration.practice import AT_9, AT_10, AT_11, Practice
from tests.integration.staff.conftest import ADMIN, Staff, book, therapist_principal


async def three_bookings(client: AsyncTestClient[Any], practice: Practice) -> list[str]:
    """Ana at 9 and 11, Ben at 10 with a safety flag raised by the booker."""
    await make_therapist(
        "ben", name="Ben Okafor", types=(practice.type_id,), hours=((0, "09:00", "12:00"),)
    )
    first = await book(client, AT_9)
    flagged = await _flagged(client)
    last = await book(client, AT_11)
    return [first["reference"], flagged["reference"], last["reference"]]


async def _flagged(client: AsyncTestClient[Any]) -> dict[str, Any]:
    body = booking_request(AT_10, therapist="ben")
    body["intake"]["booker"] = partner_answers(safe_at_home="not_sure")
    response = await client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_safety_flags_come_first_then_consultation_time(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    at9, flagged, at11 = await three_bookings(client, practice)

    page = await staff.queue.page(ADMIN)

    assert [e.reference for e in page.entries] == [flagged, at9, at11]
    top = page.entries[0]
    assert top.safety_flag is True
    assert top.therapist == "ben"
    assert [(p.position, p.first_name, p.complete) for p in top.partners] == [
        (1, "Robin", True),
        (2, "Sam", False),
    ]
    assert page.counts[ReviewStatus.NEW] == 3
    assert page.total == 3


async def test_filters_narrow_the_list_and_counts_stay_per_status(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    at9, flagged, at11 = await three_bookings(client, practice)
    await staff.queue.set_status(ADMIN, at9, ReviewStatus.ACCEPTED)

    async def listed(**filters: Any) -> list[str]:
        return [
            e.reference for e in (await staff.queue.page(ADMIN, QueueFilter(**filters))).entries
        ]

    assert await listed(status=ReviewStatus.ACCEPTED) == [at9]
    assert await listed(status=ReviewStatus.NEW) == [flagged, at11]
    assert await listed(therapist="ben") == [flagged]
    assert await listed(flagged=False) == [at9, at11]
    assert await listed(first=date(2026, 12, 8)) == []
    assert await listed(first=date(2026, 12, 7), last=date(2026, 12, 7)) == [flagged, at9, at11]
    page = await staff.queue.page(ADMIN, QueueFilter(status=ReviewStatus.NEW))
    assert page.counts[ReviewStatus.NEW] == 2
    assert page.counts[ReviewStatus.ACCEPTED] == 1
    assert page.total == 2
    with pytest.raises(ValidationFailed):
        await listed(therapist="nobody")


async def test_pages_split_the_queue(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    at9, flagged, at11 = await three_bookings(client, practice)

    first = await staff.queue.page(ADMIN, page=1, page_size=2)
    second = await staff.queue.page(ADMIN, page=2, page_size=2)

    assert (first.pages, second.pages) == (2, 2)
    assert [e.reference for e in first.entries + second.entries] == [flagged, at9, at11]
    with pytest.raises(ValidationFailed):
        await staff.queue.page(ADMIN, page=0)


async def test_the_list_decrypts_nothing_and_audits_each_booking_listed(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    references = await three_bookings(client, practice)
    # Answers no key can open: a list that tried to read one would fail.
    await Booking.update({Booking.couple_answers: "not-a-ciphertext"}).where(
        Booking._meta.primary_key > 0
    )

    page = await staff.queue.page(ADMIN)

    assert len(page.entries) == 3
    rows = await AuditEvent.select(
        AuditEvent.actor, AuditEvent.booking_reference, AuditEvent.record
    ).where(AuditEvent.action == "intake.listed")
    assert sorted(r["booking_reference"] for r in rows) == sorted(references)
    assert {(r["actor"], r["record"]) for r in rows} == {("staff:1", "queue")}


async def test_a_status_change_is_kept_with_who_and_when(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff, clock: Any
) -> None:
    booked = await book(client, AT_10)
    reference = booked["reference"]

    await staff.queue.set_status(ADMIN, reference.lower(), ReviewStatus.IN_REVIEW)
    await staff.queue.set_status(ADMIN, reference, ReviewStatus.IN_REVIEW)  # no change
    await staff.queue.set_status(ADMIN, reference, parse_review_status("referred"))

    row = await Booking.select(
        Booking.review_status, Booking.review_changed_at, Booking.review_changed_by
    ).first()
    assert row == {
        "review_status": "referred",
        "review_changed_at": clock.now,
        "review_changed_by": "staff:1",
    }
    page = await staff.review.open(ADMIN, reference)
    assert [(e.actor, e.record, e.at) for e in page.status_changes] == [
        ("staff:1", "new -> in_review", clock.now),
        ("staff:1", "in_review -> referred", clock.now),
    ]
    with pytest.raises(ValidationFailed) as refused:
        parse_review_status("maybe")
    assert "new, in_review, accepted, referred, closed" in refused.value.message


async def test_a_therapist_reaches_no_queue_and_changes_no_status(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    booked = await book(client, AT_10)
    therapist = therapist_principal(practice.therapist_id)

    with pytest.raises(NotFound):
        await staff.queue.page(therapist)
    with pytest.raises(NotFound):
        await staff.queue.set_status(therapist, booked["reference"], ReviewStatus.CLOSED)
    assert await Booking.select(Booking.review_status).first() == {"review_status": "new"}
    assert await AuditEvent.count().where(AuditEvent.actor == "staff:2") == 0
