"""The one mapping from failures to responses: the API's error shape, or a calm HTML page.

Every error, the framework's own included (validation, unknown routes, wrong methods), comes
out as `{"error": {"code", "message", "fields"}}`, except that a browser asking for a page of a
pages audience (`booking.web.audiences`) gets the same message as an HTML page; on the private
pages a service's refusal is always that page (`PAGE_ERRORS`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from asyncpg.exceptions import CharacterNotInRepertoireError, UntranslatableCharacterError
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from msgspec import Struct

from booking.core.errors import FieldError, ServiceError
from booking.web.audiences import PAGES, route_opt

log = logging.getLogger("booking.core.errors")

MISSING_PARAMETER = re.compile(r"Missing required \w+ parameter '(?P<name>[^']+)'")
# msgspec's own messages, as Litestar passes them on: they name parser states and Python types.
EXPECTED_TYPE = re.compile(r"Expected `(?P<types>[^`]+)`, got `[^`]+`")
MISSING_FIELD = re.compile(r"Object missing required field `(?P<name>[^`]+)`")
UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<name>[^`]+)`")
# A key quoted back only when it looks like a field name: anything else may be pasted data.
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
TYPE_MESSAGES = {
    "str": "This value must be text.",
    "int": "This value must be a whole number.",
    "float": "This value must be a number.",
    "bool": "This value must be true or false.",
    "array": "This value must be a list.",
    "object": "This value must be an object.",
}
BODY_NOT_JSON = "The request body is not valid JSON."
BODY_NOT_OBJECT = "The request body must be a JSON object."
# Where no route matched there is no audience to ask: everything but the API may be a page.
API_ROOT = "/api/"
# A handler's `opt` key: (route name, link text) of where its error page sends the reader back.
ERROR_BACK = "error_back"

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


class ErrorField(Struct, frozen=True):
    """One value that was refused: its path in the request (`partners[0].email`) and why."""

    field: str
    message: str


class ErrorDetail(Struct, frozen=True):
    """A machine-readable `code`, a message for people, and the fields concerned."""

    code: str
    message: str
    fields: list[ErrorField]


class ErrorBody(Struct, frozen=True):
    """Every 4xx and 5xx answer of the API."""

    error: ErrorDetail


def error_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    message: str,
    fields: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    if _wants_page(request):
        return Template(
            template_name="public/error.html",
            context={"status": status, "message": message, "fields": fields or []},
            status_code=status,
            headers=headers,
        )
    body = ErrorBody(
        ErrorDetail(code, message, [ErrorField(f.field, f.message) for f in fields or []])
    )
    return Response(body, status_code=status, headers=headers, media_type=MediaType.JSON)


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    opt = route_opt(request.scope)
    pages = bool(opt.get(PAGES)) if opt is not None else not request.url.path.startswith(API_ROOT)
    return pages and "text/html" in request.headers.get("accept", "")


def service_error_handler(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    return error_response(request, exc.status_code, exc.code, exc.message, exc.fields, exc.headers)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        return internal_error_handler(request, exc)
    if isinstance(exc, ValidationException):
        return _validation_error(request, exc)
    headers = dict(exc.headers or {})
    fields: list[FieldError] | None = None
    if status == 413:
        message = "The request is too large."
    elif status == 404:
        message = "Nothing is here. Check the address."
    elif status == 405:
        message = f"{request.method} is not allowed here."
    elif status == 400:
        # Litestar's own text quotes the parser (or the header) that refused the request.
        if isinstance(exc.__cause__, SerializationException):
            message, fields = BODY_NOT_JSON, [FieldError("body", BODY_NOT_JSON)]
        else:
            message = "The request could not be read."
    else:
        message = exc.detail
    code = HTTP_CODES.get(status, "error")
    return error_response(request, status, code, message, fields, headers)


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    # The framework's own messages can quote the request's URL or body: only the names of the
    # fields are passed on, with messages of our own where we know the case.
    fields: list[FieldError] = []
    missing = MISSING_PARAMETER.match(exc.detail or "")
    if missing:
        fields.append(FieldError(missing["name"], f"{missing['name']} is required."))
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            fields.append(plain_field_error(str(item.get("key") or ""), str(item.get("message"))))
    if not fields and "JSON" in (exc.detail or ""):
        fields.append(FieldError("body", "The request body is not valid JSON."))
    message = fields[0].message if len(fields) == 1 else "Some values are missing or not valid."
    return error_response(request, 422, "validation_error", message, fields)


def plain_field_error(key: str, message: str) -> FieldError:
    """One of the framework's complaints as the field's path and a plain message of our own.

    `key` is Litestar's path to the value (`partners[0].name`; `data` for the body itself);
    nothing of the submitted value is repeated.
    """
    path = "" if key in ("", "data") else key

    def under(name: str) -> str:
        return f"{path}.{name}" if path else name

    if found := MISSING_FIELD.fullmatch(message):
        return FieldError(under(found["name"]), "This field is required.")
    if found := UNKNOWN_FIELD.fullmatch(message):
        name = found["name"]
        field = under(name) if FIELD_NAME.fullmatch(name) else path or "body"
        return FieldError(field, "This field is not expected here.")
    if found := EXPECTED_TYPE.fullmatch(message):
        # "str | null" is an optional text field: null was allowed, so it is not the problem.
        types = [t for t in found["types"].split(" | ") if t != "null"]
        if types == ["object"] and not path:
            return FieldError("body", BODY_NOT_OBJECT)
        if len(types) == 1 and types[0] in TYPE_MESSAGES:
            return FieldError(path or "body", TYPE_MESSAGES[types[0]])
    return FieldError(path or "body", "This value is not valid.")


UNSTORABLE = "A value holds a character that is never accepted (such as U+0000)."


def unstorable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """PostgreSQL refuses text holding U+0000 (SQLite keeps it), so such a value, in a slug or
    a name, reaches the database before anything else can call it unknown: it is the client's
    error, and nothing was written (the transaction it was in is rolled back). 422 when the
    request carried a query or a body to hold it, otherwise it came in the path: the 404 of a
    thing that does not exist."""
    carried = bool(request.url.query) or request.method in ("POST", "PUT", "PATCH")
    if carried:
        return error_response(request, 422, "validation_error", UNSTORABLE)
    return error_response(request, 404, "not_found", "Nothing is found at this address.")


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The detail stays in the log (never request bodies); the client gets a plain apology.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "Something went wrong on our side. Please try again in a moment.",
    )


def page_error(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    """A service error on a page, always as the calm HTML page (never JSON)."""
    shown = [f for f in exc.fields if f.message != exc.message]
    back = request.route_handler.opt.get(ERROR_BACK)
    return Template(
        template_name="public/error.html",
        context={
            "status": exc.status_code,
            "message": exc.message,
            "fields": shown,
            "back": (request.app.route_reverse(back[0]), back[1]) if back else None,
        },
        status_code=exc.status_code,
        headers=exc.headers,
    )


PAGE_ERRORS: dict[Any, Any] = {ServiceError: page_error}
EXCEPTION_HANDLERS: dict[Any, Any] = {
    ServiceError: service_error_handler,
    HTTPException: http_exception_handler,
    CharacterNotInRepertoireError: unstorable_handler,
    UntranslatableCharacterError: unstorable_handler,
    Exception: internal_error_handler,
}
