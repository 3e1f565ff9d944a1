"""The service answers the same under `python -O`, which strips `assert` statements: a booking
whose consultation type or therapist row is gone is a plain 404 either way, never a 500."""

from __future__ import annotations

import html
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
from httpx import AsyncClient
from piccolo.table import Table

from booking.scheduling.tables import ConsultationType, Therapist
from tests.factories import booking_request, make_therapist
from tests.fixtures.databases import Database
from tests.integration.practice import AT_10, Practice, manage_token

ROOT = Path(__file__).resolve().parents[2]


async def remove_rows(database: Database, table: type[Table], where: str) -> None:
    """Delete rows of `table` past the foreign keys that normally keep them in place."""
    sql = f"DELETE FROM {table._meta.tablename} WHERE {where}"
    if database.url is None:
        # A new sqlite3 connection leaves foreign keys off (the service turns them on).
        with sqlite3.connect(database.sqlite_path) as connection:
            connection.execute(sql)
        return
    connection = await asyncpg.connect(database.url)
    try:
        await connection.execute("SET session_replication_role = replica")  # no FK triggers
        await connection.execute(sql)
    finally:
        await connection.close()


def requests_under(flags: list[str], database: Database, requests: list[str]) -> Any:
    target = database.url or database.sqlite_path
    result = subprocess.run(
        [sys.executable, *flags, "-m", "tests.integration.flagged_requests", target, *requests],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


async def book(client: AsyncClient, **request: Any) -> str:
    created = await client.post("/api/v1/bookings", json=booking_request(AT_10, **request))
    assert created.status_code == 201, created.text
    return manage_token(created.json()["manage_url"])


def requests_for(token: str) -> list[str]:
    return [
        f"GET:/api/v1/bookings/{token}",
        f"POST:/api/v1/bookings/{token}/reschedule",
        f"GET:/manage/{token}/reschedule",
    ]


async def test_a_booking_missing_a_row_gives_the_same_404_with_and_without_python_o(
    client: AsyncClient, practice: Practice, database: Database
) -> None:
    await make_therapist("bea", types=(practice.type_id,), hours=((0, "09:00", "12:00"),))
    without_type = await book(client, kind="paid")
    without_therapist = await book(client, therapist="bea")
    await remove_rows(database, ConsultationType, "slug = 'paid'")
    await remove_rows(database, Therapist, "slug = 'bea'")
    requests = requests_for(without_type) + requests_for(without_therapist)

    plain = requests_under([], database, requests)
    optimised = requests_under(["-O"], database, requests)

    assert optimised == plain
    assert [answer["status"] for answer in plain] == [404] * 6
    for answers, what in ((plain[:3], "consultation type"), (plain[3:], "therapist")):
        message = f"This booking's {what} no longer exists."
        for api in answers[:2]:
            assert api["error"] == {"code": "not_found", "message": message, "fields": []}
        assert message in html.unescape(answers[2]["page"])
