"""Databases the harness makes and always removes: SQLite files and PostgreSQL databases.

SQLite: a migrated file in the run's temporary directory (`<dir>/booking.sqlite3`, so a server
process finds it through BOOKING_DATA_DIR). PostgreSQL: `CREATE DATABASE booking_bench_<token>_<n>`
through the admin URL with asyncpg, migrated with `booking.core.db.migrate`, dropped at the end.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from piccolo.engine.base import Engine

from booking.core.db import close_pool, open_pool, postgres_engine, sqlite_engine
from booking.piccolo_app import migrate

SQLITE = "sqlite"
POSTGRES = "postgres"


@dataclass(frozen=True)
class BenchDatabase:
    backend: str
    label: str
    engine: Engine[Any]
    url: str | None  # DATABASE_URL for another process (None: SQLite)
    data_dir: Path  # BOOKING_DATA_DIR for another process (holds the SQLite file)

    def server_env(self) -> dict[str, str]:
        env = {"BOOKING_DATA_DIR": str(self.data_dir)}
        if self.url:
            env["DATABASE_URL"] = self.url
        return env


class Databases:
    """Creates migrated databases on demand and removes every one of them in `drop_all`."""

    def __init__(self, root: Path, admin_url: str | None, token: str | None = None) -> None:
        self.root = root
        self.admin_url = admin_url
        self.token = token or secrets.token_hex(4)
        self.created_pg: list[str] = []
        self.engines: list[Engine[Any]] = []
        self._count = 0

    @property
    def backends(self) -> list[str]:
        return [SQLITE, POSTGRES] if self.admin_url else [SQLITE]

    async def create(self, backend: str, label: str) -> BenchDatabase:
        """A new, migrated, empty database; PostgreSQL's pool is opened on the running loop."""
        self._count += 1
        data_dir = self.root / f"{self._count:02d}-{backend}-{label}"
        data_dir.mkdir(parents=True)
        if backend == SQLITE:
            path = data_dir / "booking.sqlite3"
            engine: Engine[Any] = sqlite_engine(str(path))
            self.engines.append(engine)
            await migrate(engine)
            return BenchDatabase(backend, label, engine, None, data_dir)
        assert self.admin_url, "no PostgreSQL URL"
        name = f"{self.prefix(self.token)}{self._count}"
        await self._admin(f'CREATE DATABASE "{name}"')
        self.created_pg.append(name)
        url = urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{name}"))
        engine = postgres_engine(url)
        self.engines.append(engine)
        await migrate(engine)
        await open_pool(engine)
        return BenchDatabase(backend, label, engine, url, data_dir)

    async def drop_all(self) -> list[str]:
        """Close every pool and drop every PostgreSQL database made here; problems are returned."""
        problems: list[str] = []
        for engine in self.engines:
            try:
                await close_pool(engine)
            except Exception as exc:  # keep dropping the others
                problems.append(f"closing a pool: {exc!r}")
        self.engines.clear()
        for name in self.created_pg:
            try:
                await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as exc:
                problems.append(f"dropping {name}: {exc!r}")
        self.created_pg.clear()
        return problems

    @staticmethod
    def prefix(token: str) -> str:
        return f"booking_bench_{token}_"

    async def _admin(self, sql: str) -> None:
        assert self.admin_url
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()


async def drop_leftovers(admin_url: str, token: str) -> list[str]:
    """Drop every database a run with `token` made (for the supervisor, after a crash)."""
    connection = await asyncpg.connect(admin_url)
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            Databases.prefix(token),
        )
        for row in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
        return [str(row["datname"]) for row in names]
    finally:
        await connection.close()
