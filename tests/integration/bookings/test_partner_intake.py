"""The second partner's private intake, through their own link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from httpx import AsyncClient

from booking.bookings.tables import Booking, Partner
from booking.core.audit import AuditEvent
from tests.factories import ALL_CONSENTS, DISTINCTIVE, booking_request, partner_answers
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, Practice, intake_token, manage_token


async def booked(client: AsyncClient) -> dict[str, Any]:
    response = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert response.status_code == 201
    return dict(response.json())


async def test_the_partner_sees_only_their_own_part(
    client: AsyncClient, practice: Practice
) -> None:
    booking = await booked(client)
    response = await client.get(f"/api/v1/intake/{intake_token(booking['reference'], 2)}")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    body = response.json()
    assert body["reference"] == booking["reference"]
    assert body["partner"] == {"name": "Sam Park"}
    assert body["complete"] is False
    assert {s["audience"] for s in body["questionnaire"]["sections"]} == {"each_partner"}
    # Nothing the booker wrote, in the couple part or their own.
    assert "chores" not in response.text
    assert "safe_answers" not in response.text


async def test_submitting_completes_the_partner_part(
    client: AsyncClient, practice: Practice
) -> None:
    booking = await booked(client)
    token = intake_token(booking["reference"], 2)

    response = await client.post(
        f"/api/v1/intake/{token}",
        json={"answers": partner_answers(hoped_for_change=DISTINCTIVE), "consents": ALL_CONSENTS},
    )

    assert response.status_code == 200
    assert response.json() == {"complete": True, "support": None}
    view = await client.get(f"/api/v1/bookings/{manage_token(booking['manage_url'])}")
    assert view.json()["partners"][1] == {"name": "Sam Park", "intake_complete": True}
    assert DISTINCTIVE not in view.text
    assert (await client.get(f"/api/v1/intake/{token}")).json()["complete"] is True


async def test_a_resubmission_replaces_the_answers_and_is_audited(
    client: AsyncClient, practice: Practice
) -> None:
    booking = await booked(client)
    token = intake_token(booking["reference"], 2)
    body = {"answers": partner_answers(), "consents": ALL_CONSENTS}
    await client.post(f"/api/v1/intake/{token}", json=body)
    await client.post(f"/api/v1/intake/{token}", json=body)

    events = (
        await AuditEvent.select(AuditEvent.actor, AuditEvent.action)
        .where(AuditEvent.booking_reference == booking["reference"])
        .order_by(AuditEvent._meta.primary_key)
    )
    assert [e["action"] for e in events] == [
        "intake.submitted",  # the booker's own part, at booking
        "intake.submitted",
        "intake.replaced",
    ]
    assert events[-1]["actor"] == "partner:2"


async def test_a_partner_safety_flag_shows_them_support_and_nobody_else(
    client: AsyncClient, practice: Practice
) -> None:
    booking = await booked(client)
    token = intake_token(booking["reference"], 2)

    response = await client.post(
        f"/api/v1/intake/{token}",
        json={
            "answers": partner_answers(harmed_past_year="prefer_private"),
            "consents": ALL_CONSENTS,
        },
    )

    support = response.json()["support"]
    assert support is not None
    assert any("911" in r["contact"] for r in support["resources"])
    flagged = await Booking.select(Booking.safety_flag, Booking.status).first()
    assert flagged == {"safety_flag": True, "status": "confirmed"}
    # The booker's views show no difference.
    booker_view = await client.get(f"/api/v1/bookings/{manage_token(booking['manage_url'])}")
    booker_intake = await client.get(f"/api/v1/intake/{intake_token(booking['reference'], 1)}")
    for response in (booker_view, booker_intake):
        assert "support" not in response.text
        assert "safety_flag" not in response.text


async def test_the_link_closes_when_the_consultation_starts(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    booking = await booked(client)
    token = intake_token(booking["reference"], 2)
    clock.now = datetime.fromisoformat(AT_10)

    assert (await client.get(f"/api/v1/intake/{token}")).status_code == 404
    late = await client.post(
        f"/api/v1/intake/{token}", json={"answers": partner_answers(), "consents": ALL_CONSENTS}
    )
    assert late.status_code == 404


async def test_a_revoked_generation_stops_the_old_link(
    client: AsyncClient, practice: Practice
) -> None:
    booking = await booked(client)
    old = intake_token(booking["reference"], 2)
    new = intake_token(booking["reference"], 2, generation=1)
    from booking.core.tokens import token_hash

    await Partner.update(
        {Partner.intake_generation: 1, Partner.intake_token_hash: token_hash(new)}
    ).where(Partner.position == 2)
    assert (await client.get(f"/api/v1/intake/{old}")).status_code == 404
    assert (await client.get(f"/api/v1/intake/{new}")).status_code == 200


async def test_partner_answers_are_validated_with_consents(
    client: AsyncClient, practice: Practice
) -> None:
    booking = await booked(client)
    token = intake_token(booking["reference"], 2)
    response = await client.post(
        f"/api/v1/intake/{token}",
        json={"answers": partner_answers(trust_in_care=DISTINCTIVE), "consents": {"purpose": True}},
    )
    assert response.status_code == 422
    names = {f["field"] for f in response.json()["error"]["fields"]}
    assert {
        "answers.trust_in_care",
        "consents.privacy",
        "consents.policy",
        "consents.email",
    } <= names
    assert DISTINCTIVE not in response.text
    assert (await Partner.select(Partner.answers).where(Partner.position == 2).first()) == {
        "answers": None
    }


async def test_the_questionnaire_is_published_with_its_version(client: AsyncClient) -> None:
    body = (await client.get("/api/v1/intake/questionnaire")).json()
    assert body["version"] == "couples-2026-1"
    audiences = {s["audience"] for s in body["sections"]}
    assert audiences == {"couple", "each_partner"}
