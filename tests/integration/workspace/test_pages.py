"""The workspace's pages through the app: signed in with the real sign-in pages, forms that
keep every value and name each problem, the change visible at once on the public side."""

from __future__ import annotations

from httpx import AsyncClient

from booking.core.audit import AuditEvent
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, Practice
from tests.integration.workspace.conftest import answer_as_partner_two, book
from tests.staff_support import create_staff, csrf_token, post_form, sign_in

HTML = {"accept": "text/html"}


async def signed_in_as_ana(client: AsyncClient, clock: FixedClock) -> None:
    login = await create_staff(therapist="ana")
    response = await sign_in(client, login, at=clock.now)
    assert response.status_code == 303, response.text


async def test_home_lists_the_consultation_and_opens_it(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = await book(client, AT_10)
    await answer_as_partner_two(client, reference, safe_at_home="no", private_contact="Text me")
    await signed_in_as_ana(client, clock)

    home = await client.get("/staff", headers=HTML)
    page = await client.get(f"/staff/bookings/{reference}", headers=HTML)

    assert home.status_code == 200, home.text
    assert "Robin and Sam" in home.text
    assert "Safety follow-up" in home.text
    assert home.headers["cache-control"] == "no-store"
    assert page.status_code == 200, page.text
    assert "Private: the other partner never sees this." in page.text
    assert "Text me" in page.text
    assert page.text.index("Safety follow-up") < page.text.index("The couple")


async def test_a_week_with_problems_comes_back_with_every_value_and_each_problem(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    await signed_in_as_ana(client, clock)
    token = csrf_token((await client.get("/staff/hours", headers=HTML)).text)

    response = await client.post(
        "/staff/hours",
        data={
            "_csrf_token": token,
            "day": ["tue", "tue", "wed"],
            "start": ["09:00", "11:00", "15:00"],
            "end": ["12:00", "13:00", "14:00"],
        },
        headers=HTML,
    )

    assert response.status_code == 422, response.text
    assert "This range overlaps 09:00–12:00 on Tuesday." in response.text
    assert "This range ends before it starts." in response.text
    for kept in ('value="11:00"', 'value="13:00"', 'value="15:00"', 'value="14:00"'):
        assert kept in response.text


async def test_saved_tuesday_hours_show_on_the_public_times_at_once(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    await signed_in_as_ana(client, clock)

    response = await post_form(
        client,
        "/staff/hours",
        {"day": "tue", "start": "13:00", "end": "15:00"},
    )
    page = await client.get(response.headers["location"], headers=HTML)
    times = await client.get(
        "/api/v1/availability",
        params={
            "consultation_type": "consult",
            "therapist": "ana",
            "start": "2026-12-08",
            "end": "2026-12-08",
        },
    )

    assert response.status_code == 303
    assert "Couples see the new times now." in page.text
    assert [s["start"][11:16] for s in times.json()["slots"]] == ["13:00", "13:30", "14:00"]
    (event,) = await AuditEvent.select(AuditEvent.user_agent, AuditEvent.actor).where(
        AuditEvent.action == "hours.replaced"
    )
    assert event["actor"].startswith("staff:")
    assert event["user_agent"] == "testclient"
