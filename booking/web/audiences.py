"""Who each part of the site answers, and what every answer to that audience carries.

Each audience is one Litestar `Router` (built in `booking.web.routers`) whose `opt` says, once,
whether its answers are private, whether its errors may be pages and whether its writes are
throttled; the headers hook (`booking.web.headers`), the error handlers (`booking.web.http_errors`)
and the rate limit (`booking.web.ratelimit`) read that `opt` from the matched route, so a new
route is covered by the router it joins, with no list of paths to keep up to date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar.types import Scope

AUDIENCE = "audience"
PRIVATE = "private"
PAGES = "pages"
THROTTLED_WRITES = "throttled_writes"
STRICT_TRANSPORT = "strict_transport"


@dataclass(frozen=True, slots=True)
class Audience:
    """One audience: who reaches its routes (anyone, a link's holder, the operator) and how (a
    program or a browser)."""

    name: str
    # Never cached, indexed or referred onwards: the answers hold private links or answers.
    private: bool = False
    # A browser asking for HTML gets failures as the calm error page rather than JSON.
    pages: bool = False
    # POSTs count against RATE_LIMIT_PER_MINUTE per client address.
    throttled_writes: bool = False
    # In production, browsers are told to reach it over HTTPS only (HSTS).
    strict_transport: bool = False

    @property
    def opt(self) -> dict[str, Any]:
        """The router's `opt`, which every route under it inherits."""
        return {
            AUDIENCE: self.name,
            PRIVATE: self.private,
            PAGES: self.pages,
            THROTTLED_WRITES: self.throttled_writes,
            STRICT_TRANSPORT: self.strict_transport,
        }


PUBLIC_API = Audience("public-api")
PUBLIC_PAGES = Audience("public-pages", pages=True)
# The booking form and the booking API are open to anyone, but what they answer holds the new
# links and what the booker typed, so they sit with the pages and API reached by a link.
PRIVATE_API = Audience("private-api", private=True, throttled_writes=True)
PRIVATE_PAGES = Audience("private-pages", private=True, pages=True, throttled_writes=True)
OPERATIONS = Audience("operations")
# The practice's staff: signed-in pages holding the most private data. Sign-in has its own
# throttling (booking.staff.sign_in), so a busy office behind one address is not rate limited.
STAFF = Audience("staff", private=True, pages=True, strict_transport=True)
AUDIENCES = (PUBLIC_API, PUBLIC_PAGES, PRIVATE_API, PRIVATE_PAGES, OPERATIONS, STAFF)


def route_opt(scope: Scope) -> Mapping[str, Any] | None:
    """The matched route's `opt`; None when no route matched (an unknown path or method)."""
    handler = scope.get("route_handler")
    return handler.opt if handler is not None else None
