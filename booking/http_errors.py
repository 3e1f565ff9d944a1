"""The one mapping from failures to responses: the API's error shape, or a calm HTML page.

Every error, the framework's own included (validation, unknown routes, wrong methods), comes
out as `{"error": {"code", "message", "fields"}}`, except that a browser asking for a page
(not under /api/) gets the same message as an HTML page.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from booking.errors import FieldError, ServiceError

log = logging.getLogger("booking.errors")

MISSING_PARAMETER = re.compile(r"Missing required \w+ parameter '(?P<name>[^']+)'")

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
    body = {
        "error": {
            "code": code,
            "message": message,
            "fields": [{"field": f.field, "message": f.message} for f in fields or []],
        }
    }
    return Response(body, status_code=status, headers=headers, media_type=MediaType.JSON)


def _wants_page(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith(("/api/", "/schema", "/health")):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept


def service_error_handler(request: Request[Any, Any, Any], exc: ServiceError) -> Response[Any]:
    return error_response(request, exc.status_code, exc.code, exc.message, exc.fields, exc.headers)


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        return internal_error_handler(request, exc)
    if isinstance(exc, ValidationException):
        return _validation_error(request, exc)
    headers = dict(exc.headers or {})
    if status == 413:
        message = "The request is too large."
    elif status == 404:
        message = "Nothing is here. Check the address."
    elif status == 405:
        message = f"{request.method} is not allowed here."
    else:
        message = exc.detail
    return error_response(request, status, HTTP_CODES.get(status, "error"), message, None, headers)


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    # The framework's own messages can quote the request's URL or body: only the names of the
    # fields are passed on, with messages of our own where we know the case.
    fields: list[FieldError] = []
    missing = MISSING_PARAMETER.match(exc.detail or "")
    if missing:
        fields.append(FieldError(missing["name"], f"{missing['name']} is required."))
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key = str(item.get("key") or "body")
            fields.append(FieldError(key, str(item.get("message") or "This value is not valid.")))
    if not fields and "JSON" in (exc.detail or ""):
        fields.append(FieldError("body", "The request body is not valid JSON."))
    message = fields[0].message if len(fields) == 1 else "Some values are missing or not valid."
    return error_response(request, 422, "validation_error", message, fields)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The detail stays in the log (never request bodies); the client gets a plain apology.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "Something went wrong on our side. Please try again in a moment.",
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ServiceError: service_error_handler,
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}
