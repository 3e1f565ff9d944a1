"""The write rate limit: RATE_LIMIT_PER_MINUTE POSTs to the throttled audiences' routes
(`throttled_writes` in their router's `opt`) per client address in each clock minute, counted
where every web process sees the same count.

The count is a fixed window kept in the database (table rate_limit_hits, one atomic upsert per
request) or, with RATE_LIMIT_REDIS_URL, in Redis (INCR and EXPIRE in one transaction); never in
one process's memory, so more web processes do not multiply the limit.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from booking.core.clients import address_digest
from booking.core.errors import RateLimited
from booking.core.ratelimit import WINDOW_SECONDS, RateLimitStore
from booking.core.settings import Settings
from booking.core.timezones import Clock
from booking.web.audiences import THROTTLED_WRITES, route_opt

MESSAGE = "Too many requests from your address. Please wait a minute and try again."


class WriteRateLimit(ASGIMiddleware):
    """Refuses a client address's POSTs to a throttled audience's routes past the limit with 429
    rate_limited and Retry-After (the seconds left in the window). Reads are not throttled.

    Runs once the route is matched (Litestar runs the application's middleware per route), so
    it reads the route's `opt`."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, settings: Settings, store: RateLimitStore, clock: Clock) -> None:
        self.limit = settings.rate_limit_per_minute
        self.secret = settings.secret_key
        self.store = store
        self.clock = clock

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        opt = route_opt(scope)
        if scope.get("method") == "POST" and opt is not None and opt.get(THROTTLED_WRITES):
            client = scope.get("client")
            now = int(self.clock().timestamp())
            window = now - now % WINDOW_SECONDS
            bucket = address_digest(self.secret, client[0] if client else "")
            if await self.store.hit(bucket, window) > self.limit:
                retry_after = max(1, window + WINDOW_SECONDS - now)
                raise RateLimited(MESSAGE, headers={"Retry-After": str(retry_after)})
        await next_app(scope, receive, send)
