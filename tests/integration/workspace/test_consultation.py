"""One consultation as its therapist reads it: both partners side by side, the safety flag
first with that partner's safe contact; one audit row per record read; marked completed or
missed once it has started."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from booking.bookings.outcomes import Outcome
from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking
from booking.core.audit import AuditEvent
from booking.core.errors import NotFound, TooEarly, TooLate
from booking.notifications.tables import OutboxMessage
from tests.factories import DISTINCTIVE, booking_request, couple_answers, make_therapist
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, Practice, manage_token
from tests.integration.workspace.conftest import (
    ADDRESS,
    ADMIN,
    Workspace,
    acting,
    answer_as_partner_two,
    book,
    therapist,
)

CONTACT = "Call-Heron-5590 weekdays after 2"


async def audit_rows() -> list[dict[str, Any]]:
    return list(
        await AuditEvent.select(
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.booking_reference,
            AuditEvent.record,
            AuditEvent.client_address,
        ).order_by(AuditEvent._meta.primary_key)
    )


async def test_both_partners_side_by_side_flag_first_and_one_audit_row_per_part(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    ana = therapist(practice.therapist_id)
    reference = await book(
        client,
        AT_10,
        intake={
            "couple": couple_answers(hoped_for_help=DISTINCTIVE),
            "booker": booking_request(AT_10)["intake"]["booker"],
        },
    )
    await answer_as_partner_two(
        client, reference, harmed_past_year="prefer_private", private_contact=CONTACT
    )
    before = len(await audit_rows())

    page = await workspace.consultation.view(ana, reference, acting(ana))

    assert page.safety_flag
    (flagged,) = page.flagged_partners
    assert (flagged.position, flagged.name, flagged.safe_contact) == (2, "Sam Park", CONTACT)
    assert [p.position for p in page.partners] == [1, 2]
    assert all(p.answered and p.intake_complete for p in page.partners)
    couple = {a.question_id: a.text for s in page.couple for a in s.answers}
    assert couple["hoped_for_help"] == DISTINCTIVE
    assert couple["living_together"] == "Yes"
    sam = {a.question_id: a.text for s in page.partners[1].sections for a in s.answers}
    assert sam["trust_in_care"] == "6 on a scale of 0 to 10"
    assert sam["harmed_past_year"] == "I'd rather talk about this privately"
    assert all(s.private for s in page.partners[1].sections)
    assert f"{page.starts_at:%H:%M}" == "10:00"
    events = (await audit_rows())[before:]
    assert events == [
        {
            "actor": ana.actor.label,
            "action": "intake.viewed",
            "booking_reference": reference,
            "record": record,
            "client_address": ADDRESS,
        }
        for record in ("couple", "partner:1", "partner:2")
    ]
    everything = str(await AuditEvent.select())
    assert DISTINCTIVE not in everything
    assert "Heron" not in everything


async def test_a_partner_who_has_not_answered_is_not_a_record_read(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    reference = await book(client, AT_10)

    page = await workspace.consultation.view(ADMIN, reference, acting(ADMIN))

    assert page.partners[1].answered is False
    assert page.partners[1].sections == ()
    assert [e["record"] for e in await audit_rows() if e["action"] == "intake.viewed"] == [
        "couple",
        "partner:1",
    ]


async def test_another_therapist_gets_404_and_reads_nothing(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    reference = await book(client, AT_10)
    ben = therapist(await make_therapist("ben"), account_id=12)
    before = await audit_rows()

    with pytest.raises(NotFound):
        await workspace.consultation.view(ben, reference, acting(ben))
    with pytest.raises(NotFound):
        await workspace.consultation.mark(ben, reference, Outcome.COMPLETED, acting(ben))

    assert await audit_rows() == before


async def test_a_consultation_is_marked_completed_or_missed_only_once_started(
    workspace: Workspace, practice: Practice, client: AsyncClient, clock: FixedClock
) -> None:
    ana = therapist(practice.therapist_id)
    reference = await book(client, AT_10)
    missed = await book(client, "2026-12-07T11:00:00-05:00")
    page = await workspace.consultation.view(ana, reference, acting(ana))
    assert page.can_mark is False
    with pytest.raises(TooEarly):
        await workspace.consultation.mark(ana, reference, Outcome.COMPLETED, acting(ana))

    clock.now = page.starts_at + timedelta(minutes=5)
    assert (await workspace.consultation.view(ana, reference, acting(ana))).can_mark
    done = await workspace.consultation.mark(ana, reference, Outcome.COMPLETED, acting(ana))
    clock.now += timedelta(hours=2)
    gone = await workspace.consultation.mark(ana, missed, Outcome.NO_SHOW, acting(ana))

    assert (done, gone) == (BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
    assert await Booking.select(Booking.reference, Booking.status).order_by(Booking.starts_at) == [
        {"reference": reference, "status": "completed"},
        {"reference": missed, "status": "no_show"},
    ]
    with pytest.raises(TooLate):
        await workspace.consultation.mark(ana, reference, Outcome.NO_SHOW, acting(ana))
    marks = [(e["action"], e["booking_reference"]) for e in await audit_rows()]
    assert ("booking.completed", reference) in marks
    assert ("booking.no_show", missed) in marks
    # A reminder still waiting for a consultation that took place is never sent.
    reminders = await OutboxMessage.select(OutboxMessage.status).where(
        OutboxMessage.kind == "reminder"
    )
    assert reminders
    assert {r["status"] for r in reminders} == {"skipped"}


async def test_a_cancelled_consultation_cannot_be_marked(
    workspace: Workspace, practice: Practice, client: AsyncClient, clock: FixedClock
) -> None:
    response = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    body = response.json()
    await client.post(f"/api/v1/bookings/{manage_token(body['manage_url'])}/cancel", json={})
    clock.now += timedelta(days=6)

    with pytest.raises(TooLate):
        await workspace.consultation.mark(
            ADMIN, body["reference"], Outcome.COMPLETED, acting(ADMIN)
        )
