"""The database engine: SQLite in the data directory by default, PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager, redirect_stdout
from functools import cache
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from booking.core.private_files import private_empty_file
from booking.core.settings import Settings

APP_NAME = "booking"
# Seconds a SQLite writer waits for the file lock before giving up.
SQLITE_BUSY_TIMEOUT = 30


class LoopLocalPostgresEngine(PostgresEngine):
    """A PostgreSQL engine whose connection pool belongs to the running event loop.

    An asyncpg pool works only on the loop that opened it. The web server, an in-process
    worker's own loop and a test's loop each open their pool through the same engine (and the
    same Piccolo tables); a loop without a pool gets a fresh connection per query.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
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


class LeanSQLiteEngine(SQLiteEngine):
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

    async def _open(self) -> Any:
        import aiosqlite
        from piccolo.engine.sqlite import dict_factory

        connection = aiosqlite.connect(**self.connection_kwargs)
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
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
    """An engine on the SQLite file `path`, created empty with mode 0600 if it is missing.

    SQLite itself would create it 0644 (less the umask); its `-wal` and `-shm` files copy the
    database file's mode, so all three stay private.
    """
    private_empty_file(Path(path))
    return LeanSQLiteEngine(path=path, timeout=SQLITE_BUSY_TIMEOUT)


def postgres_engine(url: str) -> LoopLocalPostgresEngine:
    return LoopLocalPostgresEngine(config={"dsn": url})


@asynccontextmanager
async def read_scope(engine: Engine[Any]) -> AsyncIterator[None]:
    """Where a request reads several things: one transaction on SQLite (one connection, not
    one per query), nothing on PostgreSQL, whose pool lets `read_together` run reads at once."""
    if isinstance(engine, SQLiteEngine):
        async with engine.transaction():
            yield
    else:
        yield


async def read_together(engine: Engine[Any], *queries: Awaitable[Any]) -> list[Any]:
    """Independent reads: concurrently on pooled PostgreSQL connections, else one after the
    other (inside a transaction they share its connection)."""
    concurrent = (
        isinstance(engine, PostgresEngine)
        and engine.pool is not None
        and engine.current_transaction.get() is None
    )
    if concurrent:
        return list(await asyncio.gather(*queries))
    return [await query for query in queries]


def make_engine(settings: Settings) -> Engine[Any]:
    """The engine the settings describe (no connection is opened here)."""
    if settings.database_url:
        return postgres_engine(settings.database_url)
    return sqlite_engine(str(settings.sqlite_path))


def use_engine(engine: Engine[Any]) -> None:
    """Point Piccolo (tables, migrations, its CLI) at `engine` for this process."""
    from booking import piccolo_conf
    from booking.piccolo_app import TABLES

    piccolo_conf.DB = engine
    for table in (*TABLES, Migration):
        table._meta.db = engine


def prepare_sqlite(engine: Engine[Any]) -> None:
    """Switch the SQLite file to write-ahead logging (persistent, so once is enough)."""
    if isinstance(engine, SQLiteEngine):
        with sqlite3.connect(engine.path) as connection:
            connection.execute("PRAGMA journal_mode=WAL")


async def migrate(engine: Engine[Any]) -> None:
    """Apply every migration not yet applied to `engine`."""
    use_engine(engine)
    prepare_sqlite(engine)
    quiet = io.StringIO()
    with redirect_stdout(quiet):
        result = await run_forwards(app_name=APP_NAME)
    if isinstance(engine, LeanSQLiteEngine):
        # The last connection to close checkpoints the write-ahead log into the file.
        await engine.close_idle()
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{quiet.getvalue()}")


async def pending_migrations(engine: Engine[Any]) -> int:
    """How many migrations the database has not applied (raises when it is unreachable)."""
    use_engine(engine)
    known = migration_ids()
    if not await Migration.table_exists().run():
        return len(known)
    ran = await (
        Migration.select(Migration.name)
        .where(Migration.app_name == APP_NAME)
        .output(as_list=True)
        .run()
    )
    return len(known - set(ran))


@cache
def migration_ids() -> frozenset[str]:
    from booking.piccolo_app import APP_CONFIG

    manager = BaseMigrationManager()
    modules = manager.get_migration_modules(APP_CONFIG.resolved_migrations_folder_path)
    return frozenset(manager.get_migration_ids(modules))


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
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()
