"""The headers every response carries, and the private ones of everything behind a link.

Added once, as each response starts (Litestar's `before_send`), so pages, API answers, static
files, calendar files, errors of any status and the OpenAPI document all get them.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from booking.core.logs import TOKEN
from booking.web.bookings_api import PRIVATE_HEADERS

# Scripts and styles come from /static only: no inline script, no other origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
EVERY_RESPONSE = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
}
PRIVATE = {h.name: h.value for h in PRIVATE_HEADERS if h.value is not None}
# Paths whose every answer is private even without a token in them: the booking form and
# the booking API (their answers hold the new links), and whatever lies under a link's prefix.
PRIVATE_PATHS = ("/book", "/api/v1/bookings")
PRIVATE_PREFIXES = ("/manage/", "/intake/", "/feeds/")


def is_private(path: str) -> bool:
    """Whether the answer to `path` is private (never cached, indexed or referred onwards)."""
    return path in PRIVATE_PATHS or path.startswith(PRIVATE_PREFIXES) or bool(TOKEN.search(path))


async def security_headers(message: Message, scope: Scope) -> None:
    """Adds the headers every response carries (a route's own value wins), and on a private
    path the private ones (which win over everything, errors included)."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in EVERY_RESPONSE.items():
        if name not in headers:
            headers[name] = value
    if is_private(scope["path"]):
        for name, value in PRIVATE.items():
            headers[name] = value
