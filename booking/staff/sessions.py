"""Server-side staff sessions: the cookie carries a random id, the store keeps only its
SHA-256, the account, how far sign-in got (`Stage`) and two times.

A session ends when unused for STAFF_IDLE_MINUTES, STAFF_SESSION_HOURS after signing in, at
sign-out, and for every session of an account when it signs out everywhere, changes its
password, is disabled or reset. Each privilege change (password accepted, second factor
accepted) gives the session a new id, so an id seen before it cannot ride on it.

The store is the database (table staff_sessions: every process sees it) or, with
STAFF_SESSION_REDIS_URL, Redis; both behind `SessionStore`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from redis.asyncio import Redis

from booking.core.settings import Settings
from booking.core.timezones import Clock
from booking.staff.tables import StaffSession

# last_seen_at is written at most this often: the idle timeout is exact to within it.
TOUCH_EVERY = timedelta(seconds=60)


class Stage(StrEnum):
    """How far the session's sign-in got; the stored value."""

    # The password was accepted; a second factor, enrolment or a new password may be due.
    PASSWORD = "password"
    # The second factor was accepted too (or enrolled).
    SECOND_FACTOR = "second_factor"


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id_hash: str
    account_id: int
    stage: Stage
    created_at: datetime
    last_seen_at: datetime


def session_hash(session_id: str) -> str:
    return hashlib.sha256(f"staff-session\x1f{session_id}".encode()).hexdigest()


def new_session_id() -> str:
    """256 random bits, URL-safe: what the cookie holds."""
    return secrets.token_urlsafe(32)


class SessionStore(Protocol):
    async def add(self, record: SessionRecord, lifetime: timedelta) -> None:
        """Keeps `record` for at most `lifetime` from now."""
        ...

    async def sweep(self, created_before: datetime, seen_before: datetime) -> None:
        """Forgets sessions begun before `created_before` or unused since `seen_before`."""
        ...

    async def get(self, id_hash: str) -> SessionRecord | None: ...

    async def touch(self, id_hash: str, at: datetime) -> None: ...

    async def delete(self, id_hash: str) -> None: ...

    async def delete_for_account(self, account_id: int) -> int:
        """Ends every session of the account; returns how many there were."""
        ...

    async def close(self) -> None: ...


class DatabaseSessionStore:
    """Sessions in the table staff_sessions."""

    async def add(self, record: SessionRecord, lifetime: timedelta) -> None:
        # `find` refuses it once timed out; `sweep` deletes it later.
        await StaffSession.insert(
            StaffSession(
                id_hash=record.id_hash,
                account=record.account_id,
                stage=record.stage.value,
                created_at=record.created_at,
                last_seen_at=record.last_seen_at,
            )
        )

    async def sweep(self, created_before: datetime, seen_before: datetime) -> None:
        await StaffSession.delete().where(
            (StaffSession.created_at < created_before) | (StaffSession.last_seen_at < seen_before)
        )

    async def get(self, id_hash: str) -> SessionRecord | None:
        row = (
            await StaffSession.select(
                StaffSession.account,
                StaffSession.stage,
                StaffSession.created_at,
                StaffSession.last_seen_at,
            )
            .where(StaffSession.id_hash == id_hash)
            .first()
        )
        if row is None:
            return None
        return SessionRecord(
            id_hash, row["account"], Stage(row["stage"]), row["created_at"], row["last_seen_at"]
        )

    async def touch(self, id_hash: str, at: datetime) -> None:
        await StaffSession.update({StaffSession.last_seen_at: at}).where(
            StaffSession.id_hash == id_hash
        )

    async def delete(self, id_hash: str) -> None:
        await StaffSession.delete().where(StaffSession.id_hash == id_hash)

    async def delete_for_account(self, account_id: int) -> int:
        gone = await (
            StaffSession.delete()
            .where(StaffSession.account == account_id)
            .returning(StaffSession.id)
        )
        return len(gone)

    async def close(self) -> None:
        return None


class RedisSessionStore:
    """Sessions in Redis: a hash per session expiring with its absolute timeout, and a set of
    each account's session hashes (for signing out everywhere)."""

    def __init__(self, url: str, prefix: str = "booking:staff-session:") -> None:
        self.url = url
        self.prefix = prefix
        self._client: Redis | None = None  # decoding: every value comes back as str

    @property
    def client(self) -> Redis:
        if self._client is None:
            # Made on first use, on the loop that serves the requests.
            self._client = Redis.from_url(self.url, decode_responses=True)
        return self._client

    def _key(self, id_hash: str) -> str:
        return f"{self.prefix}s:{id_hash}"

    def _account_key(self, account_id: int) -> str:
        return f"{self.prefix}a:{account_id}"

    async def add(self, record: SessionRecord, lifetime: timedelta) -> None:
        key = self._key(record.id_hash)
        seconds = max(1, int(lifetime.total_seconds()))
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(
                key,
                mapping={
                    "account": record.account_id,
                    "stage": record.stage.value,
                    "created_at": record.created_at.isoformat(),
                    "last_seen_at": record.last_seen_at.isoformat(),
                },
            )
            pipe.expire(key, seconds)
            pipe.sadd(self._account_key(record.account_id), record.id_hash)
            pipe.expire(self._account_key(record.account_id), seconds)
            await pipe.execute()

    async def sweep(self, created_before: datetime, seen_before: datetime) -> None:
        return None  # each session's key expires with its absolute timeout

    async def get(self, id_hash: str) -> SessionRecord | None:
        raw = await self.client.hgetall(self._key(id_hash))
        if not raw:
            return None
        found = {_text(k): _text(v) for k, v in raw.items()}
        return SessionRecord(
            id_hash,
            int(found["account"]),
            Stage(found["stage"]),
            datetime.fromisoformat(found["created_at"]),
            datetime.fromisoformat(found["last_seen_at"]),
        )

    async def touch(self, id_hash: str, at: datetime) -> None:
        key = self._key(id_hash)
        # Only an existing session: a touch racing a sign-out must not bring it back.
        if await self.client.exists(key):
            await self.client.hset(key, "last_seen_at", at.isoformat())

    async def delete(self, id_hash: str) -> None:
        key = self._key(id_hash)
        account = await self.client.hget(key, "account")
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if account is not None:
                pipe.srem(self._account_key(int(account)), id_hash)
            await pipe.execute()

    async def delete_for_account(self, account_id: int) -> int:
        hashes = await self.client.smembers(self._account_key(account_id))
        keys = [self._key(_text(h)) for h in hashes]
        async with self.client.pipeline(transaction=True) as pipe:
            if keys:
                pipe.delete(*keys)
            pipe.delete(self._account_key(account_id))
            results = await pipe.execute()
        return int(results[0]) if keys else 0

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def session_store(settings: Settings) -> SessionStore:
    """Redis when STAFF_SESSION_REDIS_URL is set, else the database."""
    if settings.staff_session_redis_url:
        return RedisSessionStore(settings.staff_session_redis_url)
    return DatabaseSessionStore()


@dataclass(frozen=True, slots=True)
class Issued:
    """A session just begun or given a new id: the id for the cookie (never stored) and its
    record."""

    session_id: str
    record: SessionRecord


class Sessions:
    """Begins, finds (ending what has timed out), renews and ends staff sessions."""

    def __init__(self, settings: Settings, store: SessionStore, clock: Clock) -> None:
        self.idle = timedelta(minutes=settings.staff_idle_minutes)
        self.lifetime = timedelta(hours=settings.staff_session_hours)
        self.store = store
        self.clock = clock

    async def begin(self, account_id: int, stage: Stage) -> Issued:
        now = self.clock()
        # Finished sessions of anyone are cleared as new ones begin: the store stays small.
        await self.store.sweep(now - self.lifetime, now - self.idle)
        session_id = new_session_id()
        record = SessionRecord(session_hash(session_id), account_id, stage, now, now)
        await self.store.add(record, self.lifetime)
        return Issued(session_id, record)

    async def find(self, session_id: str) -> SessionRecord | None:
        """The live session the cookie names, its use noted; None when there is none or it
        timed out (then it is ended here)."""
        if not session_id or len(session_id) > 100:
            return None
        id_hash = session_hash(session_id)
        record = await self.store.get(id_hash)
        if record is None:
            return None
        now = self.clock()
        if now - record.last_seen_at >= self.idle or now - record.created_at >= self.lifetime:
            await self.store.delete(id_hash)
            return None
        if now - record.last_seen_at >= TOUCH_EVERY:
            await self.store.touch(id_hash, now)
            record = replace(record, last_seen_at=now)
        return record

    async def renew(self, record: SessionRecord, stage: Stage) -> Issued:
        """The session under a new id at `stage`; the old id stops working. The absolute
        timeout still counts from the first sign-in."""
        await self.store.delete(record.id_hash)
        session_id = new_session_id()
        now = self.clock()
        renewed = SessionRecord(
            session_hash(session_id), record.account_id, stage, record.created_at, now
        )
        await self.store.add(renewed, self.lifetime - (now - record.created_at))
        return Issued(session_id, renewed)

    async def end(self, record: SessionRecord) -> None:
        await self.store.delete(record.id_hash)

    async def end_all(self, account_id: int) -> int:
        return await self.store.delete_for_account(account_id)

    async def close(self) -> None:
        await self.store.close()
