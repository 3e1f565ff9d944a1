"""A JSON body the service cannot read gets a plain message naming the field, in the error shape:
never the parser's own words, Python type names, or anything that was sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient

from tests.factories import ALL_CONSENTS, DISTINCTIVE, booking_request
from tests.integration.practice import AT_10, AT_11, Practice, intake_token, manage_token

NOT_JSON = "The request body is not valid JSON."
NOT_OBJECT = "The request body must be a JSON object."
TEXT = "This value must be text."
OBJECT = "This value must be an object."
REQUIRED = "This field is required."
UNEXPECTED = "This field is not expected here."


@dataclass(frozen=True)
class Links:
    manage: str
    intake: str


@pytest.fixture
async def links(client: AsyncClient, practice: Practice) -> Links:
    response = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert response.status_code == 201, response.text
    body = response.json()
    return Links(manage_token(body["manage_url"]), intake_token(body["reference"], 2))


def endpoint(name: str, links: Links) -> str:
    return {
        "bookings": "/api/v1/bookings",
        "cancel": f"/api/v1/bookings/{links.manage}/cancel",
        "reschedule": f"/api/v1/bookings/{links.manage}/reschedule",
        "intake": f"/api/v1/intake/{links.intake}",
    }[name]


async def post_raw(client: AsyncClient, path: str, body: bytes) -> Any:
    response = await client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert DISTINCTIVE not in response.text
    return response


def without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def partner_missing_email() -> dict[str, Any]:
    body = booking_request(AT_10)
    body["partners"][1] = {"name": "Sam Park"}
    return body


def partner_named_by_number() -> dict[str, Any]:
    body = booking_request(AT_10)
    body["partners"][0]["name"] = 1
    return body


@pytest.mark.parametrize("name", ["bookings", "cancel", "reschedule", "intake"])
@pytest.mark.parametrize(
    "body",
    [
        f'{{"start": "{DISTINCTIVE}'.encode(),  # truncated
        b'{"reason": "x",}',
        b"not json at all",
    ],
    ids=["truncated", "trailing-comma", "not-json"],
)
async def test_a_body_that_is_not_json_is_refused_in_plain_words(
    client: AsyncClient, links: Links, name: str, body: bytes
) -> None:
    response = await post_raw(client, endpoint(name, links), body)

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "bad_request",
            "message": NOT_JSON,
            "fields": [{"field": "body", "message": NOT_JSON}],
        }
    }


@pytest.mark.parametrize(
    ("name", "body", "field", "message"),
    [
        ("bookings", [], "body", NOT_OBJECT),
        ("bookings", booking_request(AT_10, consultation_type=5), "consultation_type", TEXT),
        ("bookings", partner_named_by_number(), "partners[0].name", TEXT),
        ("bookings", booking_request(AT_10, intake=[]), "intake", OBJECT),
        ("bookings", without(booking_request(AT_10), "therapist"), "therapist", REQUIRED),
        ("bookings", partner_missing_email(), "partners[1].email", REQUIRED),
        ("bookings", booking_request(AT_10, extra=1), "extra", UNEXPECTED),
        ("cancel", [], "body", NOT_OBJECT),
        ("cancel", {"reason": 12}, "reason", TEXT),
        ("cancel", {"why": "x"}, "why", UNEXPECTED),
        ("reschedule", {"start": 5}, "start", TEXT),
        ("reschedule", {}, "start", REQUIRED),
        ("reschedule", {"start": AT_11, f"{DISTINCTIVE} !": 1}, "body", UNEXPECTED),
        ("intake", {"answers": [], "consents": ALL_CONSENTS}, "answers", OBJECT),
        ("intake", {"answers": {}}, "consents", REQUIRED),
        ("intake", "yes", "body", NOT_OBJECT),
    ],
)
async def test_a_body_of_the_wrong_shape_names_the_field_in_plain_words(
    client: AsyncClient, links: Links, name: str, body: Any, field: str, message: str
) -> None:
    response = await client.post(endpoint(name, links), json=body)

    assert DISTINCTIVE not in response.text
    assert response.status_code == 422, response.text
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": message,
            "fields": [{"field": field, "message": message}],
        }
    }
