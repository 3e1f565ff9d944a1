"""Each request's id (on its log lines and in its X-Request-ID header) and its latency metric.

The id is made here (32 hex characters) unless a TRUSTED_PROXIES peer sent one: a proxy's own
id then joins its access log to ours. From anyone else the header is ignored, so a client
cannot write what it likes into the logs. An id the log filter would take out (token-shaped)
or of other characters than letters, digits, `.`, `_`, `:` and `-` is refused the same way.

Latency is measured from the route's match to the response's start, labelled with the route
template (`/api/v1/bookings/{token:str}`), never the path that carries a token.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from collections.abc import Sequence

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from booking.core.logs import REQUEST_ID, acceptable_request_id
from booking.core.metrics import REQUEST_SECONDS
from booking.core.settings import Settings

HEADER = "X-Request-ID"
_STATE_ID = "booking.request_id"
_STATE_STARTED = "booking.request_started"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(proxies: Sequence[str]) -> tuple[Network, ...]:
    """TRUSTED_PROXIES as networks (a bare address is a network of one)."""
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def came_through_trusted_proxy(scope: Scope, trusted: Sequence[Network]) -> bool:
    """Whether the connection's peer is a TRUSTED_PROXIES address.

    `booking serve` has uvicorn replace the client by X-Forwarded-For's address only when the
    peer is trusted, and a forwarded address carries port 0, which no TCP peer has: a client
    with port 0 was put there for a trusted peer.
    """
    if not trusted:
        return False
    client = scope.get("client")
    if not client:
        return False
    host, port = client[0], client[1]
    if port == 0:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in trusted)


def request_id_for(scope: Scope, trusted: Sequence[Network]) -> str:
    """The request's id, decided once per request and kept in its scope."""
    state = scope.setdefault("state", {})
    known = state.get(_STATE_ID)
    if known is not None:
        return str(known)
    chosen = uuid.uuid4().hex
    if came_through_trusted_proxy(scope, trusted):
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                given = value.decode("latin-1").strip()
                if acceptable_request_id(given):
                    chosen = given
                break
    state[_STATE_ID] = chosen
    return chosen


class RequestObservation(ASGIMiddleware):
    """Names the request on every line logged while it is handled, and starts its clock.

    Runs once the route is matched (Litestar's application middleware is per route)."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, settings: Settings) -> None:
        self.trusted = trusted_networks(settings.trusted_proxies)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        REQUEST_ID.set(request_id_for(scope, self.trusted))
        scope.setdefault("state", {})[_STATE_STARTED] = time.perf_counter()
        await next_app(scope, receive, send)


class ResponseObservation:
    """A `before_send` hook: echoes the id on every response (an unknown path's 404 too) and
    records the latency of every matched route as its response starts."""

    def __init__(self, settings: Settings) -> None:
        self.trusted = trusted_networks(settings.trusted_proxies)

    async def __call__(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start" or scope["type"] != ScopeType.HTTP:
            return
        request_id = request_id_for(scope, self.trusted)
        REQUEST_ID.set(request_id)  # for the server's access line, logged as the response starts
        MutableScopeHeaders.from_message(message)[HEADER] = request_id
        started = scope.get("state", {}).get(_STATE_STARTED)
        if started is not None:
            REQUEST_SECONDS.labels(
                scope.get("method", ""), scope.get("path_template") or "", str(message["status"])
            ).observe(time.perf_counter() - started)
