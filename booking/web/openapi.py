"""The OpenAPI document: what Litestar derives from the handlers, completed with every error.

Litestar describes each operation's parameters, bodies and success answers from the handlers'
types, but of the errors it knows only its own 400 (in its own shape, which the service never
sends). `complete_document` replaces every error response of every operation with the statuses
the route can really answer, each with the service's error model (`ErrorBody`):

- a path parameter names something that may not exist: 404;
- query, header or body input that can be invalid: 422;
- a JSON body: 400 when it is not JSON, 413 over the body limit;
- a POST to a throttled audience (`booking.web.audiences`): 429 with Retry-After;
- the service errors a handler declares with `opt=declares(...)` (409s, a 404 from a query).

The rules read only the route (its parameters, body, method and audience), so a route added
later is covered without being named here. A handler's own `responses=` (a 503 with its body)
are kept as declared. It then states what the request types alone cannot: the formats and
bounds the service checks, and the intake answers derived from the questionnaire's own data.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
import msgspec.inspect
from litestar import Litestar, Request
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute
from msgspec import Struct

from booking.core.errors import (
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServiceError,
    ValidationFailed,
)
from booking.intake.consents import load_consents
from booking.intake.questionnaire import (
    COUPLE,
    EACH_PARTNER,
    TEXT_TYPES,
    Question,
    load_questionnaire,
)
from booking.web.audiences import THROTTLED_WRITES
from booking.web.http_errors import ErrorBody

# A handler's `opt` key: the service errors (ServiceError subclasses) it may answer.
RAISES = "raises"
COMPONENTS = "#/components/schemas/"
ERROR_REF = {"$ref": f"{COMPONENTS}ErrorBody"}
STATUS_TEXT = {
    400: "The request body could not be read (it is not JSON).",
    404: "Nothing is found for the address or a value the request names.",
    409: "The request conflicts with the booking's or the calendar's state.",
    413: "The request body is over the size limit.",
    422: "A value is missing or not valid; `fields` names each one.",
    429: "Too many write requests from this address; retry after `Retry-After` seconds.",
}
# The codes each status carries when no handler declares its own (api.md, "Conventions").
DEFAULT_CODES = {400: "bad_request", 404: NotFound.code, 413: PayloadTooLarge.code}


# --- the questionnaire's public shape (api.md, "Intake questionnaire") ----------------------


class OptionOut(Struct, frozen=True):
    value: str
    label: str


class QuestionOut(Struct, frozen=True):
    id: str
    type: str
    label: str
    help: str | None
    required: bool
    options: list[OptionOut]
    min: int | None
    max: int | None
    max_length: int | None


class SectionOut(Struct, frozen=True):
    id: str
    title: str
    intro: str | None
    audience: str
    private: bool
    questions: list[QuestionOut]


class QuestionnaireOut(Struct, frozen=True):
    version: str
    published: str
    sections: list[SectionOut]


def questionnaire_out(public: dict[str, object]) -> QuestionnaireOut:
    """`Questionnaire.to_public()` as its documented struct."""
    return msgspec.convert(public, QuestionnaireOut)


def declares(*errors: type[ServiceError]) -> dict[str, Any]:
    """A handler's `opt` naming the service errors it may answer beyond the route's defaults."""
    return {RAISES: errors}


class ApiDocument(JsonRenderPlugin):
    """Serves the completed document (`complete_document`), built once on first request."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._document: dict[str, Any] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._document is None:
            self._document = complete_document(request.app)
        return self.render_json(request, self._document)


def complete_document(app: Litestar) -> dict[str, Any]:
    """The app's OpenAPI document with every operation's errors and precise request schemas."""
    document = copy.deepcopy(app.openapi_schema.to_schema())
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _add_error_model(schemas)
    bodies: list[Any] = []
    for path, method, handler in _operations(app):
        operation = document["paths"][path][method]
        _complete_responses(operation, method, handler)
        _refine_parameters(operation.get("parameters") or [])
        if (data := handler.parsed_fn_signature.parameters.get("data")) is not None:
            bodies.append(data.annotation)
    _close_bodies(schemas, bodies)
    _refine_requests(schemas)
    return document


def _operations(app: Litestar) -> Iterator[tuple[str, str, HTTPRouteHandler]]:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.resolve_include_in_schema():
                continue
            for method in handler.http_methods:
                yield route.path_format or "/", method.lower(), handler


def _complete_responses(operation: dict[str, Any], method: str, handler: HTTPRouteHandler) -> None:
    parameters = operation.get("parameters") or []
    places = {p["in"] for p in parameters}
    body = "requestBody" in operation
    statuses: dict[int, set[str]] = {}

    def answers(status: int, code: str) -> None:
        statuses.setdefault(status, set()).add(code)

    if "path" in places:
        answers(404, DEFAULT_CODES[404])
    if body or places - {"path"}:
        answers(422, ValidationFailed.code)
    if body:
        answers(400, DEFAULT_CODES[400])
        answers(413, PayloadTooLarge.code)
    if method == "post" and handler.opt.get(THROTTLED_WRITES):
        answers(429, RateLimited.code)
    for error in handler.opt.get(RAISES, ()):
        answers(error.status_code, error.code)

    declared = {str(status) for status in handler.responses or {}}
    responses: dict[str, Any] = operation["responses"]
    for listed in list(responses):
        if listed[0] in "45" and listed not in declared:
            del responses[listed]
    for status, codes in sorted(statuses.items()):
        responses[str(status)] = _error_response(status, codes)


def _error_response(status: int, codes: Iterable[str]) -> dict[str, Any]:
    named = ", ".join(f"`{code}`" for code in sorted(codes))
    response: dict[str, Any] = {
        "description": f"{STATUS_TEXT.get(status, 'Refused.')} Codes: {named}.",
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {
                "description": "Seconds until the address may write again.",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    return response


def _add_error_model(schemas: dict[str, Any]) -> None:
    # And the questionnaire's shape, which a partner's intake view carries too.
    _, components = msgspec.json.schema_components(
        [ErrorBody, QuestionnaireOut], ref_template=COMPONENTS + "{name}"
    )
    schemas.update(components)


# --- request schemas: what the handlers' types do not say ------------------------------------

RFC3339 = {"type": "string", "format": "date-time"}
# Printable (str.isprintable) Latin-1, as a header arrives; HTTP drops white space at its ends.
PRINTABLE = r"!-~\xa1-\xac\xae-\xff"
IDEMPOTENCY_KEY = {
    "type": "string",
    "minLength": 1,
    "maxLength": 200,
    "pattern": rf"^[{PRINTABLE}](?:[ {PRINTABLE}]*[{PRINTABLE}])?$",
}


def _close_bodies(schemas: dict[str, Any], bodies: list[Any]) -> None:
    """`additionalProperties: false` on every request struct that refuses unknown fields."""
    seen: set[type] = set()

    def walk(node: object) -> None:
        if isinstance(node, msgspec.inspect.StructType):
            if node.cls in seen:
                return
            seen.add(node.cls)
            if node.forbid_unknown_fields and node.cls.__name__ in schemas:
                schemas[node.cls.__name__]["additionalProperties"] = False
        if isinstance(node, msgspec.inspect.Type | msgspec.inspect.Field):
            for name in node.__struct_fields__:
                walk(getattr(node, name))
        elif isinstance(node, tuple):
            for item in node:
                walk(item)

    for node in msgspec.inspect.multi_type_info(bodies):
        walk(node)


def _refine_requests(schemas: dict[str, Any]) -> None:
    def prop(component: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = schemas[component]["properties"][name]
        return found

    if "BookingIn" in schemas:
        prop("BookingIn", "start").update(RFC3339)
        partners = prop("BookingIn", "partners")
        partners.update(minItems=2, maxItems=2)
        prop("BookingIn", "consents").clear()
        prop("BookingIn", "consents").update(_consents_schema())
    if "RescheduleIn" in schemas:
        prop("RescheduleIn", "start").update(RFC3339)
    if "CancelIn" in schemas:
        reason = prop("CancelIn", "reason")
        for choice in reason.get("oneOf", [reason]):
            if choice.get("type") == "string":
                choice["maxLength"] = 500
    if "IntakeIn" in schemas:
        schemas["IntakeIn"]["properties"] = {
            "couple": _answers_schema(COUPLE),
            "booker": _answers_schema(EACH_PARTNER),
        }
    if "PartnerIntakeView" in schemas:
        view = schemas["PartnerIntakeView"]["properties"]
        view["questionnaire"] = {"$ref": f"{COMPONENTS}QuestionnaireOut"}
        view["partner"] = _strings_object("name")
        view["consents"] = {
            "type": "array",
            "items": _strings_object("id", "version", "title", "text"),
        }
    if "PartnerIntakeIn" in schemas:
        prop("PartnerIntakeIn", "answers").clear()
        prop("PartnerIntakeIn", "answers").update(_answers_schema(EACH_PARTNER))
        prop("PartnerIntakeIn", "consents").clear()
        prop("PartnerIntakeIn", "consents").update(_consents_schema())


# Query and header values the service checks beyond their type, by (place, name).
PARAMETERS: dict[tuple[str, str], dict[str, Any]] = {
    ("header", "Idempotency-Key"): IDEMPOTENCY_KEY,
    # A date, or empty for the default.
    ("query", "start"): {"type": "string", "pattern": "^(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?$"},
    ("query", "end"): {"type": "string", "pattern": "^(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?$"},
}


def _refine_parameters(parameters: list[dict[str, Any]]) -> None:
    for parameter in parameters:
        refined = PARAMETERS.get((parameter["in"], parameter["name"]))
        if refined is not None:
            parameter["schema"] = dict(refined)


def _strings_object(*names: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": "string"} for name in names},
        "required": list(names),
    }


def _consents_schema() -> dict[str, Any]:
    names = list(load_consents())
    return {
        "type": "object",
        "description": "Each consent given: `true` for every one the questionnaire asks for.",
        "properties": {name: {"const": True} for name in names},
        "required": names,
        "additionalProperties": False,
    }


def _answers_schema(audience: str) -> dict[str, Any]:
    questionnaire = load_questionnaire()
    questions = questionnaire.questions_for(audience)
    return {
        "type": "object",
        "description": f"Answers to the {audience} sections of questionnaire "
        f"{questionnaire.version}, keyed by question id (GET /api/v1/intake/questionnaire).",
        "properties": {q.id: _answer_schema(q) for q in questions},
        "required": [q.id for q in questions if q.required],
        "additionalProperties": False,
    }


# An answer left empty: what the service reads as "not answered" (allowed when not required).
UNANSWERED: list[dict[str, Any]] = [
    {"type": "null"},
    {"type": "array", "items": {"type": "string"}, "maxItems": 0},
    {"type": "string", "pattern": r"^\s*$"},
]


def _answer_schema(question: Question) -> dict[str, Any]:
    kind = question.type
    answer: dict[str, Any]
    if kind in TEXT_TYPES:
        limit = question.max_length or 0
        # Measured after surrounding white space is dropped, and not blank.
        answer = {"type": "string", "pattern": rf"^\s*\S(?:[\s\S]{{0,{limit - 2}}}\S)?\s*$"}
    elif kind in ("yes_no", "single_choice"):
        answer = {"type": "string", "enum": list(question.option_values)}
    elif kind == "multiple_choice":
        answer = {
            "type": "array",
            "items": {"type": "string", "enum": list(question.option_values)},
            "minItems": 1,
            "uniqueItems": True,
        }
    elif kind == "scale":
        answer = {"type": "integer", "minimum": question.min, "maximum": question.max}
    else:
        # The years ANSWER_DATES allows (1900 to 2200).
        answer = {"type": "string", "format": "date", "pattern": r"^(?:19|2[01])[0-9]{2}-|^2200-"}
    answer["description"] = re.sub(r"\s+", " ", question.label)
    if question.required:
        return answer
    return {"anyOf": [answer, *copy.deepcopy(UNANSWERED)], "description": answer["description"]}
