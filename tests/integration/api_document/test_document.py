"""The OpenAPI document lists, for every operation, every status it can answer, with the
service's error model; request schemas state what the service checks; a route added later is
covered without being named anywhere."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import msgspec
from litestar import Controller, Litestar, Router, get, post
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath, JSONBody
from litestar.testing import AsyncTestClient
from msgspec import Struct

from booking.core.errors import SlotUnavailable
from booking.intake.questionnaire import load_questionnaire
from booking.web.audiences import PRIVATE_API, PUBLIC_API, THROTTLED_WRITES
from booking.web.http_errors import ErrorBody
from booking.web.openapi import ApiDocument, complete_document, declares
from tests.factories import ALL_CONSENTS, couple_answers, partner_answers

ERROR_REF = "#/components/schemas/ErrorBody"
METHODS = ("get", "put", "post", "patch", "delete")
# What the parameters and body of a route alone make it answer, whatever its handler does.
LITESTAR_ERROR_FIELDS = {"status_code", "detail"}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def expected_statuses(operation: dict[str, Any], throttled: bool, method: str) -> set[str]:
    places = {p["in"] for p in operation.get("parameters", [])}
    body = "requestBody" in operation
    expected = set()
    if "path" in places:
        expected.add("404")
    if body or places - {"path"}:
        expected.add("422")
    if body:
        expected |= {"400", "413"}
    if throttled and method == "post":
        expected.add("429")
    return expected


def throttled_routes(app: Litestar) -> set[tuple[str, str]]:
    return {
        (route.path_format, method.lower())
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.opt.get(THROTTLED_WRITES)
        for method in handler.http_methods
    }


def assert_complete(document: dict[str, Any], app: Litestar) -> None:
    throttled = throttled_routes(app)
    for path, method, operation in operations(document):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        needed = expected_statuses(operation, (path, method) in throttled, method)
        assert needed <= set(responses), f"{where} lacks {sorted(needed - set(responses))}"
        for status, response in responses.items():
            content = response.get("content") or {}
            if status.startswith("2"):
                assert content or status == "204", f"{where} {status} has no schema"
                continue
            schema = content["application/json"]["schema"]
            assert set(schema.get("properties", {})) & LITESTAR_ERROR_FIELDS == set(), where
            if (path, status) != ("/health/ready", "503"):
                assert schema == {"$ref": ERROR_REF}, f"{where} {status}"
        if "429" in responses:
            assert "Retry-After" in responses["429"]["headers"], where


async def served_document(client: AsyncTestClient[Any]) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_every_operation_lists_every_error_its_route_can_answer(
    client: AsyncTestClient[Any],
) -> None:
    document = await served_document(client)
    assert len(list(operations(document))) >= 14
    assert_complete(document, client.app)
    paths = document["paths"]
    # And what the handlers declare, beyond what their routes say.
    assert "409" in paths["/api/v1/bookings"]["post"]["responses"]
    assert "409" in paths["/api/v1/bookings/{manage_token}/reschedule"]["post"]["responses"]
    assert "404" in paths["/api/v1/availability"]["get"]["responses"]
    assert "503" in paths["/health/ready"]["get"]["responses"]
    # A route that reads nothing from the request refuses nothing.
    assert set(paths["/api/v1/therapists"]["get"]["responses"]) == {"200"}


async def test_the_error_model_is_what_every_error_answer_is(
    client: AsyncTestClient[Any],
) -> None:
    document = await served_document(client)
    schemas = document["components"]["schemas"]
    answers = [
        await client.get("/api/v1/therapists/nobody"),
        await client.get("/api/v1/availability"),
        await client.post("/api/v1/bookings", content=b"{not json", headers=JSON),
        await client.post("/api/v1/bookings", json={}),
    ]

    assert [a.status_code for a in answers] == [404, 422, 400, 422]
    validator = jsonschema_rs.validator_for(
        {"$ref": ERROR_REF, "components": document["components"]}
    )
    for answer in answers:
        assert validator.is_valid(answer.json()), answer.text
        msgspec.convert(answer.json(), ErrorBody)
    assert set(schemas["ErrorDetail"]["required"]) == {"code", "message", "fields"}


JSON = {"content-type": "application/json"}


async def test_request_schemas_accept_the_service_s_answers_and_state_its_checks(
    client: AsyncTestClient[Any],
) -> None:
    schemas = (await served_document(client))["components"]["schemas"]
    booking = schemas["BookingIn"]["properties"]
    assert booking["start"]["format"] == "date-time"
    assert (booking["partners"]["minItems"], booking["partners"]["maxItems"]) == (2, 2)
    assert schemas["RescheduleIn"]["properties"]["start"]["format"] == "date-time"
    assert schemas["BookingIn"]["additionalProperties"] is False

    couple = schemas["IntakeIn"]["properties"]["couple"]
    booker = schemas["IntakeIn"]["properties"]["booker"]
    partner = schemas["PartnerIntakeIn"]["properties"]["answers"]
    questionnaire = load_questionnaire()
    for schema, audience in (
        (couple, "couple"),
        (booker, "each_partner"),
        (partner, "each_partner"),
    ):
        questions = questionnaire.questions_for(audience)
        assert set(schema["properties"]) == {q.id for q in questions}
        assert set(schema["required"]) == {q.id for q in questions if q.required}

    # The answers the service accepts are valid by the schema; the ones it refuses are not.
    assert jsonschema_rs.is_valid(couple, couple_answers())
    assert jsonschema_rs.is_valid(booker, partner_answers())
    assert not jsonschema_rs.is_valid(booker, partner_answers(trust_in_care=11))
    assert not jsonschema_rs.is_valid(booker, {**partner_answers(), "shoe_size": "9"})
    consents = schemas["PartnerIntakeIn"]["properties"]["consents"]
    assert jsonschema_rs.is_valid(consents, ALL_CONSENTS)
    assert not jsonschema_rs.is_valid(consents, {**ALL_CONSENTS, "privacy": False})


async def test_options_names_every_method_of_a_path(client: AsyncTestClient[Any]) -> None:
    response = await client.options("/api/v1/intake/some-link")
    assert response.headers["allow"] == "GET, OPTIONS, POST"


# --- a route added later ---------------------------------------------------------------------


class PaymentIn(Struct, forbid_unknown_fields=True):
    setup_intent: str


class PaymentOut(Struct):
    status: str


class LaterController(Controller):
    """Stands for a controller built after this document's rules (a deposit's payment)."""

    path = "/api/v1/later"

    @get("/{token:str}")
    async def read(self, token: FromPath[str]) -> PaymentOut:
        return PaymentOut("pending")

    @post("/{token:str}", status_code=200, opt=declares(SlotUnavailable))
    async def pay(self, token: FromPath[str], data: JSONBody[PaymentIn]) -> PaymentOut:
        return PaymentOut("succeeded")

    @get("/")
    async def listing(self) -> list[PaymentOut]:
        return []


def test_a_route_added_later_is_covered_without_being_named() -> None:
    app = Litestar(
        route_handlers=[
            Router("/", route_handlers=[LaterController], opt=PRIVATE_API.opt),
            Router("/public", route_handlers=[LaterController], opt=PUBLIC_API.opt),
        ],
        openapi_config=OpenAPIConfig(title="t", version="1", render_plugins=[ApiDocument()]),
    )

    document = complete_document(app)

    assert_complete(document, app)
    later = document["paths"]["/api/v1/later/{token}"]
    assert set(later["get"]["responses"]) == {"200", "404"}
    assert set(later["post"]["responses"]) == {"200", "400", "404", "409", "413", "422", "429"}
    public = document["paths"]["/public/api/v1/later/{token}"]
    assert "429" not in public["post"]["responses"]  # that audience's writes are not throttled
    assert set(document["paths"]["/api/v1/later"]["get"]["responses"]) == {"200"}
    assert document["components"]["schemas"]["PaymentIn"]["additionalProperties"] is False
