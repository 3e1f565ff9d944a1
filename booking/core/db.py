"""The database engine: SQLite in the data directory by default, PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from enum import IntEnum
from pathlib import Path
from typing import Any

import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from booking.core.private_files import private_empty_file
from booking.core.settings import Settings

APP_NAME = "booking"
# Seconds a SQLite writer waits for the file lock before giving up.
SQLITE_BUSY_TIMEOUT = 30


class LockSpace(IntEnum):
    """Named key spaces for transaction-scoped locks: a key means something only in its space.

    PostgreSQL takes `pg_advisory_xact_lock(space, key)`; the values are stable, never reused.
    """

    THERAPIST = 1
    BOOKING_LIMIT = 8
    # Changes of who may administer (disabling an admin): one at a time, so two admins
    # disabling each other cannot leave none.
    STAFF_ADMINS = 20
    # A booking's payment (key: the booking id): one charge at a time per booking.
    PAYMENT = 16


class Capabilities:
    """What the service asks of a database beyond Piccolo's queries, per engine class.

    Domain code calls these (through the module functions below) and never asks which
    database it runs on.
    """

    # Whether `SELECT … FOR UPDATE SKIP LOCKED` lets concurrent claimers take different rows.
    skip_locked = False

    def write_transaction(self) -> AbstractAsyncContextManager[None]:
        raise NotImplementedError

    async def lock(self, space: LockSpace, key: int) -> None:
        """Serialise writers holding the same (space, key) until the transaction ends."""
        raise NotImplementedError

    async def limit_lock_wait(self, seconds: float) -> None:
        """For the rest of the write transaction, give up waiting for a lock after `seconds`
        (PostgreSQL raises LockNotAvailableError; SQLite's writers wait the busy timeout)."""
        raise NotImplementedError

    def read_scope(self) -> AbstractAsyncContextManager[None]:
        raise NotImplementedError

    async def read_together(self, *queries: Awaitable[Any]) -> list[Any]:
        raise NotImplementedError

    async def scrub(self) -> None:
        """After an erasure has committed: leave what it deleted in no file of the database."""
        raise NotImplementedError

    async def lookup(self, table: str, key: str, value: str, keys: Sequence[int]) -> dict[int, int]:
        """`{key: value}` of the rows of `table` whose integer `key` is one of `keys` (every
        row when `keys` is empty): one indexed read, on its own, outside any transaction,
        as cheaply as the driver allows (the availability cache asks one per request)."""
        raise NotImplementedError


class LoopLocalPostgresEngine(Capabilities, PostgresEngine):
    """A PostgreSQL engine whose connection pool belongs to the running event loop.

    An asyncpg pool works only on the loop that opened it. The web server, an in-process
    worker's own loop and a test's loop each open their pool through the same engine (and the
    same Piccolo tables); a loop without a pool gets a fresh connection per query.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        # Per loop: [connection or None, the lock its lookups take turns under].
        self._lookups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[Any]] = (
            weakref.WeakKeyDictionary()
        )
        super().__init__(config=config)

    @property
    def pool(self) -> Any:
        try:
            return self._pools.get(asyncio.get_running_loop())
        except RuntimeError:  # no running loop: nothing can use a pool here
            return None

    @pool.setter
    def pool(self, value: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # Piccolo's constructor sets None before any loop runs
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value

    skip_locked = True

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[None]:
        """An ordinary transaction: row locks, advisory locks and constraints do the rest."""
        async with self.transaction():
            yield

    async def lock(self, space: LockSpace, key: int) -> None:
        await self._run_in_transaction("SELECT pg_advisory_xact_lock($1, $2)", int(space), key)

    async def limit_lock_wait(self, seconds: float) -> None:
        # SET takes no parameters; the value is a number formatted here, never text.
        await self._run_in_transaction(f"SET LOCAL lock_timeout = {int(seconds * 1000)}")

    @asynccontextmanager
    async def read_scope(self) -> AsyncIterator[None]:
        """Nothing to hold: the pool lets `read_together` run the reads at once."""
        yield

    async def read_together(self, *queries: Awaitable[Any]) -> list[Any]:
        """Independent reads, concurrently on pooled connections when outside a transaction."""
        if self.pool is not None and self.current_transaction.get() is None:
            return list(await asyncio.gather(*queries))
        return [await query for query in queries]

    async def scrub(self) -> None:
        """Nothing to do for a dump: it holds live rows only. The dead row versions stay in the
        table files until (auto)vacuum reuses their space (docs/decisions.md, "Erasure")."""

    async def lookup(self, table: str, key: str, value: str, keys: Sequence[int]) -> dict[int, int]:
        """On a connection of this loop kept for lookups alone, its statement prepared once:
        a pooled connection would cost a second round trip, the pool's reset on release
        (measured: half of a cached availability request). Lookups on one loop take turns;
        each is one short round trip."""
        # The names are the service's own constants; the keys are parameters.
        sql = f'SELECT "{key}", "{value}" FROM "{table}"'  # nosec B608
        args: tuple[Any, ...] = ()
        if keys:
            sql += f' WHERE "{key}" = ANY($1::int[])'
            args = (list(keys),)
        held = self._lookups.setdefault(asyncio.get_running_loop(), [None, asyncio.Lock()])
        async with held[1]:
            try:
                return await self._lookup_on(held, sql, args)
            except (OSError, asyncpg.exceptions.ConnectionDoesNotExistError):
                # The server went away since (a restart): once more, on a new connection.
                held[0].terminate()
                held[0] = None
                return await self._lookup_on(held, sql, args)

    async def _lookup_on(self, held: list[Any], sql: str, args: tuple[Any, ...]) -> dict[int, int]:
        if held[0] is None or held[0].is_closed():
            held[0] = await asyncpg.connect(**self.config)
        return dict(await held[0].fetch(sql, *args))

    async def close_lookups(self) -> None:
        """Close this loop's lookup connection, if it has one."""
        held = self._lookups.pop(asyncio.get_running_loop(), None)
        if held is not None and held[0] is not None:
            await held[0].close()

    async def _run_in_transaction(self, sql: str, *args: Any) -> None:
        transaction = self.current_transaction.get()
        if transaction is None:
            raise RuntimeError("a lock is taken inside a write transaction")
        await transaction.connection.execute(sql, *args)


class LeanSQLiteEngine(Capabilities, SQLiteEngine):
    """Piccolo's SQLite engine with fewer trips to aiosqlite's connection threads.

    Piccolo opens a connection (and a thread) for every query or transaction and repeats a
    PRAGMA before every statement; measured, an availability request made 39 such trips
    (docs/benchmarks.md). Here connections are kept for reuse (a few idle ones, their threads
    daemonic so they never keep a process alive), foreign keys are switched on once per
    connection, and a statement runs and fetches in one call.
    """

    IDLE = 4

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._idle: list[Any] = []
        self._readers = threading.local()

    @asynccontextmanager
    async def write_transaction(self) -> AsyncIterator[None]:
        """BEGIN IMMEDIATE: one writer at a time, each waiting up to the busy timeout."""
        async with self.transaction(transaction_type=TransactionType.immediate):
            yield

    async def lock(self, space: LockSpace, key: int) -> None:
        """Nothing to take: BEGIN IMMEDIATE already serialises every writer."""
        if self.current_transaction.get() is None:
            raise RuntimeError("a lock is taken inside a write transaction")

    async def limit_lock_wait(self, seconds: float) -> None:
        """Nothing to set: BEGIN IMMEDIATE waited (up to the busy timeout) before this."""

    @asynccontextmanager
    async def read_scope(self) -> AsyncIterator[None]:
        """One transaction, so the reads share one connection instead of one each."""
        async with self.transaction():
            yield

    async def read_together(self, *queries: Awaitable[Any]) -> list[Any]:
        """One after the other: a SQLite connection runs one statement at a time."""
        return [await query for query in queries]

    async def scrub(self) -> None:
        """Copy the write-ahead log into the file and empty it: with secure_delete (set on
        every connection) the freed space was zeroed, and no older page image survives in
        the log. Best effort: a reader still in a transaction keeps the log until it ends."""
        await self._run_in_new_connection("PRAGMA wal_checkpoint(TRUNCATE)")

    async def lookup(self, table: str, key: str, value: str, keys: Sequence[int]) -> dict[int, int]:
        """On a plain sqlite3 connection of this thread, kept open: an indexed read of a few
        rows takes microseconds, less than a hop to an aiosqlite thread. Autocommit, so each
        read sees the last commit (write-ahead logging: it never waits for a writer)."""
        # The names are the service's own constants; the keys are parameters.
        where = f' WHERE "{key}" IN ({", ".join("?" * len(keys))})' if keys else ""
        sql = f'SELECT "{key}", "{value}" FROM "{table}"{where}'  # nosec B608
        connection = getattr(self._readers, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path, timeout=SQLITE_BUSY_TIMEOUT, isolation_level=None
            )
            self._readers.connection = connection
        return dict(connection.execute(sql, tuple(keys)).fetchall())

    async def _open(self) -> Any:
        import aiosqlite
        from piccolo.engine.sqlite import dict_factory

        # A database nobody migrated yet is still created private, never by SQLite (0644).
        private_empty_file(Path(self.path))
        connection = aiosqlite.connect(**self.connection_kwargs)
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        # Deleted or overwritten content is zeroed, not left in free space for a copy of the
        # file to reveal (an erasure, the retention purge).
        await connection.execute("PRAGMA secure_delete = ON")
        return connection

    async def get_connection(self) -> Any:
        try:
            connection = self._idle.pop()
        except IndexError:
            connection = await self._open()
        return _Lent(connection, self)

    async def give_back(self, connection: Any) -> None:
        if connection.in_transaction:
            try:
                await connection.rollback()
            except Exception:
                await connection.close()
                return
        if len(self._idle) < self.IDLE:
            self._idle.append(connection)
        else:
            await connection.close()

    async def close_idle(self) -> None:
        while self._idle:
            await self._idle.pop().close()
        reader = getattr(self._readers, "connection", None)
        if reader is not None:
            self._readers.connection = None
            reader.close()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        connection = await self.get_connection()
        try:
            return await self._run_in_existing_connection(
                connection, query, args, query_type, table
            )
        finally:
            await connection.close()

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:
            # No RETURNING before 3.35: Piccolo's own path looks the new row up.
            return await super()._run_in_existing_connection(
                connection, query, args, query_type, table
            )
        return await connection.execute_fetchall(query, args or [])


class _Lent:
    """A pooled aiosqlite connection on loan: closing it gives it back to the engine."""

    def __init__(self, connection: Any, engine: LeanSQLiteEngine) -> None:
        object.__setattr__(self, "_connection", connection)
        object.__setattr__(self, "_engine", engine)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._connection, name, value)

    async def close(self) -> None:
        await self._engine.give_back(self._connection)


def sqlite_engine(path: str) -> LeanSQLiteEngine:
    """An engine on the SQLite file `path`; nothing is opened or created here (`migrate`
    creates the file, privately: `prepare_sqlite`)."""
    return LeanSQLiteEngine(path=path, timeout=SQLITE_BUSY_TIMEOUT)


def postgres_engine(url: str) -> LoopLocalPostgresEngine:
    return LoopLocalPostgresEngine(config={"dsn": url})


ServiceEngine = LeanSQLiteEngine | LoopLocalPostgresEngine
_bound: list[ServiceEngine] = []


def bind(engine: Engine[Any]) -> None:
    """Make `engine` the one the module functions below (and so every domain) write through."""
    if not isinstance(engine, Capabilities):
        raise TypeError(f"{type(engine).__name__} lacks the service's database capabilities")
    _bound[:] = [engine]  # type: ignore[list-item]


def bound() -> ServiceEngine:
    if not _bound:
        raise RuntimeError("no database engine is bound (booking.piccolo_app.use_engine)")
    return _bound[0]


# What to do once the outermost write transaction of this task has committed (None: no write
# transaction is open). A nested one adds to its outer one's list.
_AFTER_COMMIT: ContextVar[list[Callable[[], None]] | None] = ContextVar(
    "after_commit", default=None
)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction that may write bookings: BEGIN IMMEDIATE on SQLite (one writer at a
    time, waiting up to the busy timeout), an ordinary one on PostgreSQL.

    What `after_commit` was given inside it runs once it has committed; if it rolls back,
    nothing of that runs."""
    if _AFTER_COMMIT.get() is not None:  # inside another: that one commits
        async with bound().write_transaction():
            yield
        return
    pending: list[Callable[[], None]] = []
    reset = _AFTER_COMMIT.set(pending)
    try:
        async with bound().write_transaction():
            yield
    finally:
        _AFTER_COMMIT.reset(reset)
    for callback in pending:
        callback()


def after_commit(callback: Callable[[], None]) -> None:
    """Call `callback` once the current write transaction has committed (a count of what it
    changed, say: a transaction that rolls back changed nothing)."""
    pending = _AFTER_COMMIT.get()
    if pending is None:
        raise RuntimeError("after_commit is called inside a write transaction")
    pending.append(callback)


async def limit_lock_wait(seconds: float) -> None:
    """Inside a write transaction: stop waiting for a lock after `seconds`."""
    await bound().limit_lock_wait(seconds)


async def lock(space: LockSpace, key: int) -> None:
    """Hold the lock (space, key) until the current write transaction ends."""
    await bound().lock(space, key)


def read_scope() -> AbstractAsyncContextManager[None]:
    """Where a request reads several things: one transaction on SQLite (one connection, not
    one per query), nothing on PostgreSQL, whose pool lets `read_together` run reads at once."""
    return bound().read_scope()


async def read_together(*queries: Awaitable[Any]) -> list[Any]:
    """Independent reads: concurrently on pooled PostgreSQL connections, else one after the
    other (inside a transaction they share its connection)."""
    return await bound().read_together(*queries)


async def scrub() -> None:
    """After an erasure has committed: leave what it deleted in no file of the database."""
    await bound().scrub()


async def lookup(table: str, key: str, value: str, keys: Sequence[int]) -> dict[int, int]:
    """`{key: value}` of `table`'s rows with `key` in `keys` (all rows for none): one cheap
    indexed read outside any transaction."""
    return await bound().lookup(table, key, value, keys)


def make_engine(settings: Settings) -> ServiceEngine:
    """The engine the settings describe (no connection is opened here)."""
    if settings.database_url:
        return postgres_engine(settings.database_url)
    return sqlite_engine(str(settings.sqlite_path))


def prepare_sqlite(engine: Engine[Any]) -> None:
    """Create the SQLite file empty with mode 0600 if it is missing, and switch it to
    write-ahead logging (persistent, so once is enough).

    SQLite itself would create it 0644 (less the umask); its `-wal` and `-shm` files copy the
    database file's mode, so all three stay private.
    """
    if isinstance(engine, SQLiteEngine):
        private_empty_file(Path(engine.path))
        with sqlite3.connect(engine.path) as connection:
            connection.execute("PRAGMA journal_mode=WAL")


async def open_pool(engine: Engine[Any]) -> bool:
    """Open a PostgreSQL connection pool on the running loop; False if none was opened.

    SQLite keeps its connections itself (True: the caller closes the idle ones at the end).
    """
    if isinstance(engine, LeanSQLiteEngine):
        return True
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(min_size=1, max_size=10)
        return True
    return False


async def close_pool(engine: Engine[Any]) -> None:
    if isinstance(engine, LeanSQLiteEngine):
        await engine.close_idle()
    if isinstance(engine, LoopLocalPostgresEngine):
        await engine.close_lookups()
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()
