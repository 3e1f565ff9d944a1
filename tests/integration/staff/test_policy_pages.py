"""Therapists' profiles and consultation types over HTTP, as an admin edits them: each form
saved and seen at once on the public API and pages, each problem named with every value
kept and nothing saved, each change audited (fields, not values), and a therapist given the
404 of a page that does not exist."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from booking.core.audit import AuditEvent
from booking.staff.principal import Role
from tests.integration.conftest import FixedClock
from tests.integration.practice import Practice
from tests.staff_support import create_staff, form_token, sign_in

HTML = {"accept": "text/html"}
AGENT = "Mozilla/5.0 Policy-Pages-Test"
PAID_FORM = {
    "name": "Couples consultation",
    "description": "A first meeting of both partners.",
    "duration_minutes": "50",
    "buffer_after_minutes": "10",
    "slot_interval_minutes": "30",
    "min_notice_minutes": "1440",
    "horizon_days": "60",
    "daily_cap": "",
    "currency": "cad",
    "price_amount": "150.00",
    "deposit_amount": "50",
    "refund_window_hours": "72",
    "reschedule_cutoff_hours": "24",
    "payment_hold_minutes": "15",
    "modes": "video",
    "active": "1",
}


async def as_admin(client: AsyncTestClient[Any], clock: FixedClock) -> int:
    admin = await create_staff(Role.ADMIN)
    client.headers["user-agent"] = AGENT
    assert (await sign_in(client, admin, at=clock.now)).status_code == 303
    return admin.account_id


async def post(client: AsyncTestClient[Any], path: str, data: dict[str, Any]) -> Any:
    token = await form_token(client, path)
    return await client.post(path, data={**data, "_csrf_token": token}, headers=HTML)


async def test_a_saved_profile_is_on_the_public_directory_at_once_and_audited(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    admin_id = await as_admin(client, clock)

    saved = await post(
        client,
        "/staff/profiles/ana",
        {
            "name": "Ana Lima",
            "credentials": "Registered Psychotherapist",
            "bio": "Works with couples on trust and repair.",
            "languages": "English, Portuguese",
            "modes": ["video", "in_person"],
            "timezone": "America/Vancouver",
        },
    )

    assert saved.status_code == 303, saved.text
    listed = await client.get(saved.headers["location"], headers=HTML)
    assert "The profile is saved" in listed.text
    public = (await client.get("/api/v1/therapists/ana")).json()
    assert public["credentials"] == "Registered Psychotherapist"
    assert public["languages"] == ["English", "Portuguese"]
    assert public["modes"] == ["video", "in_person"]
    assert public["timezone"] == "America/Vancouver"
    assert public["accepting_new_couples"] is False  # the box was left unticked
    directory = await client.get("/", headers=HTML)
    assert "Registered Psychotherapist" in directory.text
    assert "Not taking new couples at the moment." in directory.text
    (event,) = await AuditEvent.select().where(AuditEvent.action == "therapist.changed")
    assert event["actor"] == f"staff:{admin_id}"
    assert event["record"].startswith("therapist:ana ")
    assert "Portuguese" not in event["record"]
    assert event["user_agent"] == AGENT


async def test_a_profile_with_problems_keeps_every_value_and_names_each(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    await as_admin(client, clock)

    refused = await post(
        client,
        "/staff/profiles/ana",
        {
            "name": " ",
            "credentials": "RP",
            "bio": "Kept as typed",
            "languages": "",
            "modes": "telepathy",
            "timezone": "Mars/Olympus",
            "accepting_new_couples": "1",
        },
    )

    assert refused.status_code == 422, refused.text
    assert "4 answers need another look" in refused.text
    for message in (
        "Name: This cannot be empty.",
        "Languages: Name at least one language.",
        "Meets couples: Choose one or more of",
        "Time zone: Choose a time zone such as America/Toronto.",
    ):
        assert message in refused.text
    assert 'value="Mars/Olympus"' in refused.text
    assert "Kept as typed</textarea>" in refused.text
    assert (await client.get("/api/v1/therapists/ana")).json()["timezone"] == "America/Toronto"
    assert await AuditEvent.count().where(AuditEvent.action == "therapist.changed") == 0


async def test_a_new_refund_window_is_on_the_public_api_and_pages_at_once(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    admin_id = await as_admin(client, clock)
    form = await client.get("/staff/policies/paid", headers=HTML)
    assert 'value="150.00"' in form.text
    assert 'value="50.00"' in form.text

    saved = await post(client, "/staff/policies/paid", PAID_FORM)

    assert saved.status_code == 303, saved.text
    types = {t["slug"]: t for t in (await client.get("/api/v1/consultation-types")).json()}
    assert types["paid"]["policy"]["refund_window_hours"] == 72
    assert types["paid"]["policy"]["slot_interval_minutes"] == 30
    assert types["paid"]["price"] == {"amount": 15000, "currency": "cad"}
    directory = await client.get("/", headers=HTML)
    assert "cancel at least 72 hours before and the deposit is refunded" in directory.text
    therapist_page = await client.get("/therapists/ana", headers=HTML)
    assert "cancel at least 72 hours before" in therapist_page.text
    times = await client.get("/times", params={"type": "paid"}, headers=HTML)
    assert "cancel at least 72 hours before" in times.text
    (event,) = await AuditEvent.select().where(AuditEvent.action == "consultation_type.changed")
    assert event["actor"] == f"staff:{admin_id}"
    assert "refund_window_hours" in event["record"]
    assert "72" not in event["record"]


async def test_a_shorter_horizon_changes_the_public_times_at_once(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    await as_admin(client, clock)
    params = {
        "consultation_type": "consult",
        "therapist": "ana",
        "start": "2026-12-07",
        "end": "2026-12-07",
    }
    before = (await client.get("/api/v1/availability", params=params)).json()["slots"]

    saved = await post(
        client,
        "/staff/policies/consult",
        {
            **PAID_FORM,
            "name": "First conversation",
            "price_amount": "",
            "deposit_amount": "",
            "horizon_days": "2",
            "modes": ["video", "phone"],
        },
    )

    assert saved.status_code == 303, saved.text
    assert before  # Monday 7 December was open, five days ahead
    assert (await client.get("/api/v1/availability", params=params)).json()["slots"] == []


async def test_a_consultation_type_with_problems_keeps_every_value_and_names_each(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    await as_admin(client, clock)

    refused = await post(
        client,
        "/staff/policies/paid",
        {
            **PAID_FORM,
            "duration_minutes": "five",
            "refund_window_hours": "-3",
            "deposit_amount": "200",
            "payment_hold_minutes": "1",
            "price_amount": "twelve",
        },
    )

    assert refused.status_code == 422, refused.text
    for message in (
        "Duration (minutes): Give a whole number.",
        "Refund window (hours before the start): Give a whole number.",
        "Price: Give an amount such as 150 or 150.00.",
        "Deposit: A deposit is at most the price.",
        "Payment hold (minutes): Give a whole number of minutes, 5 to 120.",
    ):
        assert message in refused.text
    for kept in ('value="five"', 'value="-3"', 'value="200"', 'value="twelve"'):
        assert kept in refused.text
    types = {t["slug"]: t for t in (await client.get("/api/v1/consultation-types")).json()}
    assert types["paid"]["policy"]["refund_window_hours"] == 48
    assert types["paid"]["duration_minutes"] == 50
    assert await AuditEvent.count().where(AuditEvent.action == "consultation_type.changed") == 0


async def test_a_therapist_gets_404_for_every_profile_and_policy_page(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    therapist = await create_staff(therapist="ana")
    await sign_in(client, therapist, at=clock.now)
    token = await form_token(client, "/staff")

    answers = [
        await client.get(path, headers=HTML)
        for path in (
            "/staff/profiles",
            "/staff/profiles/ana",
            "/staff/policies",
            "/staff/policies/paid",
        )
    ]
    for path, data in (
        ("/staff/profiles/ana", {"name": "Taken over"}),
        ("/staff/policies/paid", PAID_FORM),
    ):
        answers.append(await client.post(path, data={**data, "_csrf_token": token}, headers=HTML))

    assert [a.status_code for a in answers] == [404] * 6
    assert (await client.get("/api/v1/therapists/ana")).json()["name"] == "Ana Lima"
    assert await AuditEvent.count().where(AuditEvent.action.like("%changed")) == 0
