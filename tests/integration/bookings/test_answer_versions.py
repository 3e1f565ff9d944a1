"""Every version of a partner's answers is kept, and a safety flag stays raised until staff
resolve it: a later "all is well" never erases a disclosure."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from booking.bookings.contexts import partner_context
from booking.bookings.tables import Booking, Partner
from booking.core.audit import Actor, AuditEvent
from booking.core.errors import NotFound
from booking.core.settings import get_settings
from booking.intake.services import resolve_safety_flag
from booking.intake.tables import AnswerVersion
from booking.intake.versions import version_context
from tests.factories import ALL_CONSENTS, booking_request, partner_answers
from tests.fixtures.databases import Database
from tests.integration.bookings.conftest import ConcurrentClient
from tests.integration.bookings.test_privacy import raw_database
from tests.integration.conftest import NOW, FixedClock
from tests.integration.practice import AT_10, Practice, intake_token

CANARY = "Call-Me-At-The-Library-4417"
FLAGGED = partner_answers(harmed_past_year="prefer_private", private_contact=CANARY)
SAFE = partner_answers(hoped_for_change="All is well now.")


async def booked(client: AsyncClient, **booker: Any) -> str:
    body = booking_request(AT_10)
    body["intake"]["booker"] = partner_answers(**booker)
    response = await client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


async def submit(client: AsyncClient, reference: str, answers: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/intake/{intake_token(reference, 2)}",
        json={"answers": answers, "consents": ALL_CONSENTS},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def flags(reference: str) -> tuple[bool, list[bool]]:
    booking = await Booking.select(Booking._meta.primary_key, Booking.safety_flag).where(
        Booking.reference == reference
    )
    partners = await (
        Partner.select(Partner.safety_flag)
        .where(Partner.booking == booking[0]["id"])
        .order_by(Partner.position)
    )
    return booking[0]["safety_flag"], [p["safety_flag"] for p in partners]


async def test_a_later_safe_submission_keeps_the_flag_and_both_versions(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = await booked(client)
    first = await submit(client, reference, FLAGGED)
    clock.now += timedelta(hours=1)
    second = await submit(client, reference, SAFE)

    assert first["support"] is not None
    # The answer speaks of the answers just given; the earlier flag is for staff to follow up.
    assert second == {"complete": True, "support": None}
    assert await flags(reference) == (True, [False, True])

    keyring = get_settings().keyring()
    versions = await (
        AnswerVersion.select().where(AnswerVersion.position == 2).order_by(AnswerVersion.number)
    )
    assert [(v["number"], v["safety_flag"]) for v in versions] == [(1, True), (2, False)]
    assert [v["submitted_at"] for v in versions] == [NOW, NOW + timedelta(hours=1)]
    assert {v["questionnaire_version"] for v in versions} == {"couples-2026-1"}
    opened = [
        keyring.decrypt_json(v["answers"], version_context(reference, 2, v["number"]))
        for v in versions
    ]
    assert opened[0]["private_contact"] == CANARY  # type: ignore[index]
    assert opened[0]["harmed_past_year"] == "prefer_private"  # type: ignore[index]
    assert opened[1]["hoped_for_change"] == "All is well now."  # type: ignore[index]
    assert opened[1]["harmed_past_year"] == "no"  # type: ignore[index]
    # What the partner's record shows as their answers is the latest version.
    latest = await Partner.select(Partner.answers).where(Partner.position == 2).first()
    assert latest is not None
    assert keyring.decrypt_json(latest["answers"], partner_context(reference, 2)) == opened[1]

    events = (
        await AuditEvent.select(AuditEvent.actor, AuditEvent.action, AuditEvent.record)
        .where(AuditEvent.booking_reference == reference)
        .order_by(AuditEvent._meta.primary_key)
    )
    assert events[1:] == [
        {"actor": "partner:2", "action": "intake.submitted", "record": "partner:2 version 1"},
        {"actor": "partner:2", "action": "intake.replaced", "record": "partner:2 version 2"},
    ]


async def test_the_bookers_answers_at_booking_are_their_version_one(
    client: AsyncClient, practice: Practice
) -> None:
    reference = await booked(client, safe_at_home="not_sure")

    (version,) = await AnswerVersion.select()
    assert (version["position"], version["number"], version["safety_flag"]) == (1, 1, True)
    answers = (
        get_settings().keyring().decrypt_json(version["answers"], version_context(reference, 1, 1))
    )
    assert answers["safe_at_home"] == "not_sure"  # type: ignore[index]


async def test_no_version_of_an_answer_is_in_clear_in_the_database(
    client: AsyncClient, practice: Practice, database: Database
) -> None:
    reference = await booked(client)
    await submit(client, reference, FLAGGED)
    await submit(client, reference, SAFE)

    dump = raw_database(database)

    assert b"Sam Park" in dump  # the dump really holds the partner...
    assert CANARY.encode() not in dump  # ...but not what they disclosed


async def test_staff_resolving_clears_both_flags_and_is_audited(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = await booked(client)
    await submit(client, reference, FLAGGED)
    clock.now += timedelta(hours=2)

    assert await resolve_safety_flag(reference, Actor.staff(7), clock.now, "192.0.2.1") is True

    assert await flags(reference) == (False, [False, False])
    resolved = await Booking.select(Booking.safety_resolved_at, Booking.safety_resolved_by).first()
    assert resolved == {"safety_resolved_at": clock.now, "safety_resolved_by": "staff:7"}
    event = await AuditEvent.select().where(AuditEvent.action == "safety.resolved").first()
    assert event is not None
    assert (event["actor"], event["booking_reference"], event["client_address"]) == (
        "staff:7",
        reference,
        "192.0.2.1",
    )
    # The history still says that version raised the flag.
    kept = await AnswerVersion.select(AnswerVersion.safety_flag).where(AnswerVersion.position == 2)
    assert kept == [{"safety_flag": True}]
    # Nothing left to resolve; a safe answer keeps it clear, a new disclosure raises it again.
    assert await resolve_safety_flag(reference, Actor.staff(7), clock.now) is False
    await submit(client, reference, SAFE)
    assert await flags(reference) == (False, [False, False])
    await submit(client, reference, FLAGGED)
    assert await flags(reference) == (True, [False, True])


async def test_resolving_an_unknown_booking_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound):
        await resolve_safety_flag("ZZZZ-ZZZZ", Actor.staff(1), NOW)


async def test_submissions_at_the_same_moment_are_both_kept_in_order(
    concurrent: ConcurrentClient, practice: Practice
) -> None:
    created = await concurrent.http.post("/api/v1/bookings", json=booking_request(AT_10))
    reference = created.json()["reference"]
    url = f"/api/v1/intake/{intake_token(reference, 2)}"

    answers = await asyncio.gather(
        concurrent.http.post(url, json={"answers": FLAGGED, "consents": ALL_CONSENTS}),
        concurrent.http.post(url, json={"answers": SAFE, "consents": ALL_CONSENTS}),
    )

    assert concurrent.in_flight.most > 1
    assert [a.status_code for a in answers] == [200, 200]
    numbers = await (
        AnswerVersion.select(AnswerVersion.number)
        .where(AnswerVersion.position == 2)
        .order_by(AnswerVersion.number)
        .output(as_list=True)
    )
    assert numbers == [1, 2]
    assert await flags(reference) == (True, [False, True])
