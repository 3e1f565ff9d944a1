"""How the database runs each query of an availability request: plan and time, no framework.

SQLite: EXPLAIN QUERY PLAN, and the query timed through the sqlite3 module (Piccolo's value
adapters are registered globally, so the arguments are stored and compared as Piccolo does).
PostgreSQL: EXPLAIN (ANALYZE, FORMAT JSON), and the query timed through asyncpg.
"""

from __future__ import annotations

import json
import re
import sqlite3
import statistics
import time
from dataclasses import dataclass
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from tests.benchmarks.databases import BenchDatabase

REPEAT = 15


@dataclass(frozen=True)
class QueryPlan:
    table: str
    plan: str
    rows: int
    seconds: float  # median of REPEAT runs


def table_of(sql: str) -> str:
    found = re.search(r'FROM\s+"?(\w+)"?', sql, flags=re.IGNORECASE)
    return found.group(1) if found else "?"


async def explain(db: BenchDatabase, queries: list[tuple[str, list[Any]]]) -> list[QueryPlan]:
    engine = db.engine
    if isinstance(engine, SQLiteEngine):
        return _explain_sqlite(engine.path, queries)
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        plans = []
        async with engine.pool.acquire() as connection:
            for sql, args in queries:
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                raw = await connection.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *args)
                tree = json.loads(raw)[0]["Plan"]
                samples = []
                rows: list[Any] = []
                for _ in range(REPEAT):
                    t0 = time.perf_counter()
                    rows = await connection.fetch(sql, *args)
                    samples.append(time.perf_counter() - t0)
                plans.append(
                    QueryPlan(table_of(sql), _pg_nodes(tree), len(rows), statistics.median(samples))
                )
        return plans
    return []


def _explain_sqlite(path: str, queries: list[tuple[str, list[Any]]]) -> list[QueryPlan]:
    plans = []
    connection = sqlite3.connect(path)
    try:
        for sql, args in queries:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            steps = [str(r[-1]) for r in connection.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
            samples = []
            rows: list[Any] = []
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                rows = connection.execute(sql, args).fetchall()
                samples.append(time.perf_counter() - t0)
            plans.append(
                QueryPlan(table_of(sql), "; ".join(steps), len(rows), statistics.median(samples))
            )
    finally:
        connection.close()
    return plans


def _pg_nodes(node: dict[str, Any]) -> str:
    """The plan's scan nodes, e.g. 'Index Scan using bookings_therapist_starts on bookings'."""
    found: list[str] = []

    def walk(n: dict[str, Any]) -> None:
        kind = n.get("Node Type", "?")
        if "Scan" in kind:
            text = kind
            if n.get("Index Name"):
                text += f" using {n['Index Name']}"
            if n.get("Relation Name"):
                text += f" on {n['Relation Name']}"
            found.append(text)
        for child in n.get("Plans", []):
            walk(child)

    walk(node)
    return "; ".join(found) or node.get("Node Type", "?")
