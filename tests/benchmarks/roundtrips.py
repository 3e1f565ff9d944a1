"""Counting what one request asks of the database, by wrapping methods for the duration.

- Piccolo queries: calls of the engine's `run_querystring` / `run_ddl`.
- SQLite: connections opened (aiosqlite starts a worker thread for each) and hops to a
  connection's worker thread (opening, and every execute, fetch, commit and close).
- PostgreSQL: statements sent by asyncpg (`fetch` and `execute`, including BEGIN, COMMIT and
  the reset a pool runs when a connection is released).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import aiosqlite
import asyncpg.connection
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine


def _counting(counts: Counter[str], key: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        counts[key] += 1
        return method(*args, **kwargs)

    return wrapper


@contextmanager
def count_round_trips() -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    patches: list[tuple[Any, str, str]] = [
        (SQLiteEngine, "run_querystring", "piccolo queries"),
        (SQLiteEngine, "run_ddl", "piccolo queries"),
        (PostgresEngine, "run_querystring", "piccolo queries"),
        (PostgresEngine, "run_ddl", "piccolo queries"),
        (aiosqlite.Connection, "__init__", "sqlite connections opened"),
        (aiosqlite.Connection, "_connect", "sqlite thread hops"),
        (aiosqlite.Connection, "_execute", "sqlite thread hops"),
        (asyncpg.connection.Connection, "fetch", "postgres statements"),
        (asyncpg.connection.Connection, "execute", "postgres statements"),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
    try:
        for owner, name, key in patches:
            setattr(owner, name, _counting(counts, key, owner.__dict__[name]))
        yield counts
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


@contextmanager
def capture_queries() -> Iterator[list[tuple[str, list[Any]]]]:
    """The SQL and arguments of every Piccolo query run meanwhile, as the driver receives them."""
    captured: list[tuple[str, list[Any]]] = []
    method = "run_querystring"
    saved = [(engine, engine.__dict__[method]) for engine in (SQLiteEngine, PostgresEngine)]

    def recording(original: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(original)
        def wrapper(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
            sql, values = querystring.compile_string(engine_type=self.engine_type)
            captured.append((sql, list(values)))
            return original(self, querystring, *args, **kwargs)

        return wrapper

    try:
        for engine, original in saved:
            setattr(engine, method, recording(original))
        yield captured
    finally:
        for engine, original in saved:
            setattr(engine, method, original)
