"""Counting write requests per client address in fixed windows, where every process sees the
same count: the database (table rate_limit_hits, one atomic upsert per request) or Redis
(INCR and EXPIRE in one transaction); never one process's memory.
"""

from __future__ import annotations

import logging
from typing import Protocol

from piccolo.columns import BigInt, Integer, Varchar
from piccolo.table import Table
from redis.asyncio import Redis
from redis.exceptions import RedisError

from booking.core.settings import Settings

log = logging.getLogger("booking.core.ratelimit")

WINDOW_SECONDS = 60


class RateLimitHit(Table, tablename="rate_limit_hits"):
    """How many throttled requests one client address made in one window."""

    # "<bucket>:<window_start>", the bucket being the address_digest of the client address
    # (the address itself is not kept). One column, so that SQLite can hold it unique in a
    # table added by a migration.
    window_key = Varchar(length=80, unique=True)
    # The window's first second, in seconds since the epoch.
    window_start = BigInt(index=True)
    hits = Integer(default=1)


def window_key(bucket: str, window_start: int) -> str:
    """The counter's name for `bucket` in the window starting at `window_start`."""
    return f"{bucket}:{window_start}"


class RateLimitStore(Protocol):
    async def hit(self, bucket: str, window_start: int) -> int:
        """Count one request of `bucket` in the window; returns the window's count so far."""
        ...

    async def close(self) -> None: ...


class DatabaseRateLimitStore:
    """Counts in rate_limit_hits; the first hit of a window also deletes finished windows."""

    async def hit(self, bucket: str, window_start: int) -> int:
        # One statement, so concurrent requests in any process each get their own count.
        rows = await RateLimitHit.raw(
            "INSERT INTO rate_limit_hits (window_key, window_start, hits) VALUES ({}, {}, 1)"
            " ON CONFLICT (window_key) DO UPDATE SET hits = rate_limit_hits.hits + 1"
            " RETURNING hits",
            window_key(bucket, window_start),
            window_start,
        )
        hits = int(rows[0]["hits"])
        if hits == 1:
            await RateLimitHit.delete().where(RateLimitHit.window_start < window_start)
        return hits

    async def close(self) -> None:
        return None


class RedisRateLimitStore:
    """Counts in Redis under `prefix`; each window's key expires soon after the window."""

    def __init__(self, url: str, prefix: str = "booking:rate-limit:") -> None:
        self.url = url
        self.prefix = prefix
        self._client: Redis | None = None

    async def hit(self, bucket: str, window_start: int) -> int:
        if self._client is None:
            # Made on first use, on the loop that serves the requests.
            self._client = Redis.from_url(self.url)
        key = self.prefix + window_key(bucket, window_start)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 2 * WINDOW_SECONDS)
                hits, _ = await pipe.execute()
        except (RedisError, OSError):
            # A Redis outage must not stop bookings; the booking limits still hold.
            log.warning("rate limit store unreachable; request let through", exc_info=True)
            return 0
        return int(hits)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def rate_limit_store(settings: Settings) -> RateLimitStore:
    """Redis when RATE_LIMIT_REDIS_URL is set, else the database."""
    if settings.rate_limit_redis_url:
        return RedisRateLimitStore(settings.rate_limit_redis_url)
    return DatabaseRateLimitStore()
