"""Bad booking requests are refused with every problem named, and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from booking.bookings.tables import Booking
from tests.factories import DISTINCTIVE, booking_request, couple_answers, partner_answers
from tests.integration.practice import AT_10, Practice


async def refused(client: AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/bookings", json=body)
    assert response.status_code == 422, response.text
    error = dict(response.json()["error"])
    assert error["code"] == "validation_error"
    assert await Booking.count() == 0
    return error


def fields(error: dict[str, Any]) -> set[str]:
    return {f["field"] for f in error["fields"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"consultation_type": "nope"}, "consultation_type"),
        ({"therapist": "nobody"}, "therapist"),
        ({"start": "next monday"}, "start"),
        ({"start": "2026-12-07T10:00:00"}, "start"),  # no offset
        ({"mode": "carrier-pigeon"}, "mode"),
        ({"mode": "in_person"}, "mode"),  # not one of this type's modes
        ({"timezone": "Atlantis/Capital"}, "timezone"),
        ({"partners": [{"name": "Robin", "email": "robin@example.org"}]}, "partners"),
    ],
)
async def test_a_bad_field_is_named(
    client: AsyncClient, practice: Practice, change: dict[str, Any], field: str
) -> None:
    body = booking_request(AT_10)
    body.update(change)
    error = await refused(client, body)
    assert field in fields(error)


async def test_every_problem_is_reported_at_once(client: AsyncClient, practice: Practice) -> None:
    body = booking_request(AT_10)
    body["partners"][0]["email"] = "not-an-email"
    body["partners"][1]["name"] = "   "
    body["intake"]["couple"] = couple_answers(hoped_for_help="")
    body["intake"]["booker"] = partner_answers(trust_in_care=11)
    body["consents"]["privacy"] = False

    error = await refused(client, body)

    assert {
        "partners[0].email",
        "partners[1].name",
        "intake.couple.hoped_for_help",
        "intake.booker.trust_in_care",
        "consents.privacy",
    } <= fields(error)


async def test_messages_never_repeat_a_submitted_answer(
    client: AsyncClient, practice: Practice
) -> None:
    body = booking_request(AT_10)
    body["intake"]["booker"] = partner_answers(
        turning_toward=DISTINCTIVE, trust_in_care=DISTINCTIVE
    )
    body["intake"]["couple"] = couple_answers(suitable_times=DISTINCTIVE * 100)

    response = await client.post("/api/v1/bookings", json=body)

    assert response.status_code == 422
    assert DISTINCTIVE not in response.text


async def test_both_partners_may_share_one_email(client: AsyncClient, practice: Practice) -> None:
    body = booking_request(AT_10)
    body["partners"][1]["email"] = body["partners"][0]["email"]
    assert (await client.post("/api/v1/bookings", json=body)).status_code == 201


async def test_wrong_json_types_are_422_not_500(client: AsyncClient, practice: Practice) -> None:
    body: object  # each a JSON document of the wrong shape
    for body in (
        {"consultation_type": 5},
        [],
        booking_request(AT_10, partners="two people"),
        booking_request(AT_10, intake={"couple": [], "booker": {}}),
    ):
        response = await client.post("/api/v1/bookings", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"
    broken = await client.post(
        "/api/v1/bookings", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code in (400, 422)
    assert "error" in broken.json()


async def test_overlong_names_and_free_text_are_refused(
    client: AsyncClient, practice: Practice
) -> None:
    body = booking_request(AT_10)
    body["partners"][0]["name"] = "R" * 121
    body["intake"]["couple"] = couple_answers(hoped_for_help="x" * 5000)
    error = await refused(client, body)
    assert {"partners[0].name", "intake.couple.hoped_for_help"} <= fields(error)


async def test_a_body_over_64_kib_is_413(client: AsyncClient, practice: Practice) -> None:
    body = booking_request(AT_10)
    body["intake"]["couple"]["suitable_times"] = "x" * 70_000
    response = await client.post("/api/v1/bookings", json=body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "name",
    [
        "Jamie <spy@attacker.example>, Jamie",
        "Jamie spy@attacker.example",
        'Jamie "The Spy"',
        "Jamie: see below",
        "Jamie; Sam",
        "Jamie, Sam",
        "Jamie www.attacker.example",
        "Jamie attacker.example/offer",
    ],
)
async def test_a_name_that_could_carry_an_address_is_refused_without_echoing_it(
    client: AsyncClient, practice: Practice, name: str
) -> None:
    body = booking_request(AT_10)
    body["partners"][1]["name"] = name

    error = await refused(client, body)

    assert fields(error) == {"partners[1].name"}
    (problem,) = error["fields"]
    assert "no email address or link" in problem["message"]
    assert name not in str(error)
    assert "attacker" not in str(error)


async def test_ordinary_names_are_accepted(client: AsyncClient, practice: Practice) -> None:
    body = booking_request(AT_10)
    body["partners"][0]["name"] = "Zoë O'Neil-Müller"
    body["partners"][1]["name"] = "J. R. St. John"
    assert (await client.post("/api/v1/bookings", json=body)).status_code == 201
