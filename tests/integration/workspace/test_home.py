"""The workspace's home: today and the coming two weeks, safety follow-ups first, each
listing audited as a read of what it shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from booking.bookings.tables import Booking
from booking.core.audit import AuditEvent
from tests.factories import booking_request, make_therapist
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_9, AT_10, AT_11, Practice, manage_token
from tests.integration.workspace.conftest import (
    ADDRESS,
    ADMIN,
    Workspace,
    acting,
    answer_as_partner_two,
    book,
    therapist,
)


async def test_home_lists_the_two_weeks_flagged_first_with_first_names_and_completion(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    ana = therapist(practice.therapist_id)
    plain = await book(client, AT_9)
    flagged = await book(client, AT_11)
    await answer_as_partner_two(client, flagged, safe_at_home="not_sure")
    later = await book(client, "2026-12-14T09:00:00-05:00")
    beyond = await book(client, "2026-12-21T09:00:00-05:00")  # past today + 14 days
    cancelled = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    await client.post(
        f"/api/v1/bookings/{manage_token(cancelled.json()['manage_url'])}/cancel", json={}
    )

    home = await workspace.home.consultations(ana, None, acting(ana))

    assert [item.reference for item in home.items] == [flagged, plain, later]
    assert beyond not in [item.reference for item in home.items]
    assert home.flagged == 1
    first = home.items[0]
    assert first.safety_flag
    assert [(p.first_name, p.intake_complete) for p in first.partners] == [
        ("Robin", True),
        ("Sam", True),
    ]
    assert [(p.first_name, p.intake_complete) for p in home.items[1].partners] == [
        ("Robin", True),
        ("Sam", False),
    ]
    assert f"{first.starts_at:%Y-%m-%d %H:%M %Z}" == "2026-12-07 11:00 EST"
    assert first.mode == "video"
    assert first.consultation_type == "First conversation"
    events = await AuditEvent.select(
        AuditEvent.actor,
        AuditEvent.action,
        AuditEvent.booking_reference,
        AuditEvent.client_address,
    ).where(AuditEvent.action == "intake.listed")
    assert sorted(e["booking_reference"] for e in events) == sorted([flagged, plain, later])
    assert {(e["actor"], e["client_address"]) for e in events} == {(ana.actor.label, ADDRESS)}


async def test_home_shows_only_the_therapists_own_and_admins_choose_whose(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    ben_id = await make_therapist("ben", types=(practice.type_id,), hours=((0, "09:00", "12:00"),))
    ana_booking = await book(client, AT_9)
    ben_booking = await book(client, AT_9, therapist="ben")
    ben = therapist(ben_id, account_id=12)

    mine = await workspace.home.consultations(ben, None, acting(ben))
    for_ana = await workspace.home.consultations(ADMIN, "ana", acting(ADMIN))

    assert [i.reference for i in mine.items] == [ben_booking]
    assert [i.reference for i in for_ana.items] == [ana_booking]


async def test_an_empty_fortnight_writes_no_audit_row_and_a_lapsed_hold_is_not_shown(
    workspace: Workspace, practice: Practice, client: AsyncClient, clock: FixedClock
) -> None:
    ana = therapist(practice.therapist_id)
    reference = await book(client, AT_9, kind="paid")
    await Booking.update({Booking.hold_expires_at: clock.now - timedelta(minutes=1)}).where(
        Booking.reference == reference
    )

    home = await workspace.home.consultations(ana, None, acting(ana))

    assert home.items == ()
    assert await AuditEvent.count().where(AuditEvent.action == "intake.listed") == 0
    assert home.first == datetime(2026, 12, 2, tzinfo=UTC).date()
