"""The restore drill, as an operator runs it: book (with intake answers), `ops/backup FILE`,
lose the database, `ops/restore FILE`, `booking migrate`, and read the same bookings and
intakes back, the answers still opening with the data key, which the backup does not hold.

Each run has a database of its own (a SQLite file in its data directory, or a PostgreSQL
database created here), as a wiped server would: the scripts read only the service's own
environment (DATABASE_URL or BOOKING_DATA_DIR).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from booking.bookings.contexts import couple_context, partner_context
from booking.bookings.tables import Booking, Partner
from booking.core.db import ServiceEngine, close_pool, postgres_engine, sqlite_engine
from booking.core.settings import Settings, get_settings
from booking.piccolo_app import use_engine
from booking.web.app import create_app
from tests.factories import (
    ALL_CONSENTS,
    DISTINCTIVE,
    booking_request,
    couple_answers,
    partner_answers,
)
from tests.fixtures.databases import BACKENDS, POSTGRES_URL
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, intake_token, make_practice, manage_token

OPS = Path(__file__).resolve().parents[3] / "ops"


@dataclass
class Drill:
    """Where the service's data lives in this drill, and how to lose it."""

    backend: str
    data_dir: Path
    url: str | None  # DATABASE_URL on PostgreSQL

    @property
    def env(self) -> dict[str, str]:
        """The service's own environment: DATABASE_URL, or the data directory's SQLite file."""
        settings = get_settings()
        env = {
            **os.environ,
            "BOOKING_DATA_DIR": str(self.data_dir),
            # Kept apart from the data, as production keeps them: in the environment.
            "BOOKING_SECRET_KEY": settings.secret_key,
            "BOOKING_DATA_KEY": settings.data_key,
        }
        env.pop("DATABASE_URL", None)
        if self.url is not None:
            env["DATABASE_URL"] = self.url
        return env

    def engine(self) -> ServiceEngine:
        if self.url is not None:
            return postgres_engine(self.url)
        return sqlite_engine(str(self.data_dir / "booking.sqlite3"))

    async def wipe(self) -> None:
        """The database is gone: the SQLite file and its -wal, or the PostgreSQL database,
        replaced by an empty one as a new server would have."""
        if self.url is None:
            for name in ("booking.sqlite3", "booking.sqlite3-wal", "booking.sqlite3-shm"):
                (self.data_dir / name).unlink(missing_ok=True)
            return
        await admin(f'DROP DATABASE IF EXISTS "{database_name(self.url)}" WITH (FORCE)')
        await admin(f'CREATE DATABASE "{database_name(self.url)}"')

    def run(self, *command: str) -> str:
        """Run a command in the service's environment; its output, or a failure with it."""
        done = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stderr}"
        return done.stdout


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def admin(sql: str) -> None:
    assert POSTGRES_URL is not None
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(params=BACKENDS)
async def drill(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Drill]:
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o700)
    if request.param == "sqlite":
        yield Drill("sqlite", data_dir, None)
        return
    assert POSTGRES_URL is not None
    name = f"booking_drill_{uuid.uuid4().hex[:12]}"
    await admin(f'CREATE DATABASE "{name}"')
    try:
        yield Drill(
            "postgres", data_dir, urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
        )
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@asynccontextmanager
async def service(drill: Drill) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app on the drill's database (and the test's own pool on it)."""
    engine = drill.engine()
    use_engine(engine)
    app = create_app(Settings.from_env(), engine, FixedClock())
    try:
        async with AsyncTestClient(app, base_url="http://testserver.local") as client:
            yield client
    finally:
        await close_pool(engine)


async def book_with_answers(client: AsyncTestClient[Any]) -> str:
    body = booking_request(AT_10)
    body["intake"]["couple"] = couple_answers(hoped_for_help=f"Couple: {DISTINCTIVE}")
    body["intake"]["booker"] = partner_answers(hoped_for_change=f"Booker: {DISTINCTIVE}")
    created = await client.post("/api/v1/bookings", json=body)
    assert created.status_code == 201, created.text
    reference = str(created.json()["reference"])
    second = await client.post(
        f"/api/v1/intake/{intake_token(reference, 2)}",
        json={
            "answers": partner_answers(private_contact=f"Partner: {DISTINCTIVE}"),
            "consents": ALL_CONSENTS,
        },
    )
    assert second.status_code == 200, second.text
    return str(created.json()["manage_url"])


async def what_the_couple_and_the_practice_see(
    client: AsyncTestClient[Any], manage_url: str
) -> dict[str, Any]:
    """The booking by its manage link, each partner's intake by their link, and the answers
    as the data key opens them."""
    booking = (await client.get(f"/api/v1/bookings/{manage_token(manage_url)}")).json()
    reference = booking["reference"]
    intakes = [
        (await client.get(f"/api/v1/intake/{intake_token(reference, n)}")).json() for n in (1, 2)
    ]
    keyring = get_settings().keyring()
    row = await Booking.select(Booking.couple_answers).where(Booking.reference == reference).first()
    assert row is not None
    partners = await Partner.select(Partner.position, Partner.answers).order_by(Partner.position)
    answers = [keyring.decrypt_json(row["couple_answers"], couple_context(reference))] + [
        keyring.decrypt_json(p["answers"], partner_context(reference, p["position"]))
        for p in partners
    ]
    return {"booking": booking, "intakes": intakes, "answers": answers}


def secrets_of(settings: Settings) -> list[bytes]:
    """The key material the service holds apart from its data, in every form it is written."""
    keys = [settings.secret_key.encode()]
    for entry in settings.data_key.split(","):
        _, _, material = entry.partition(":")
        keys.append(material.encode())
    return keys


def readable(drill: Drill, backup: Path) -> bytes:
    """The backup's contents as anyone holding it could read them (a custom-format dump is
    compressed: pg_restore turns it back into SQL)."""
    if drill.url is None:
        return backup.read_bytes()
    return subprocess.run(
        ["pg_restore", "--file=-", str(backup)], capture_output=True, check=True, timeout=120
    ).stdout


async def test_a_backup_restores_the_same_bookings_and_intakes_and_holds_no_key(
    drill: Drill, tmp_path: Path
) -> None:
    # Given a migrated database with a booking and both partners' intakes.
    drill.run(sys.executable, "-m", "booking", "migrate")
    async with service(drill) as client:
        await make_practice()
        manage_url = await book_with_answers(client)
        before = await what_the_couple_and_the_practice_see(client, manage_url)
    assert before["intakes"][1]["complete"] is True
    assert before["answers"][2]["private_contact"] == f"Partner: {DISTINCTIVE}"

    # When it is backed up, lost, and restored from the backup.
    backup = tmp_path / "off-site" / "booking.backup"
    backup.parent.mkdir()
    assert "Backed up" in drill.run(str(OPS / "backup"), str(backup))
    await drill.wipe()
    assert "booking migrate" in drill.run(str(OPS / "restore"), str(backup))
    drill.run(sys.executable, "-m", "booking", "migrate")

    # Then the couple and the practice see what they saw, and the answers open with the key.
    async with service(drill) as client:
        after = await what_the_couple_and_the_practice_see(client, manage_url)
    assert after == before
    # The backup is private, holds the booking, and neither a key nor an answer in clear.
    assert backup.stat().st_mode & 0o777 == 0o600
    contents = readable(drill, backup)
    assert b"Robin Park" in contents
    assert DISTINCTIVE.encode() not in contents
    for key in secrets_of(get_settings()):
        assert key not in contents


def refusal(drill: Drill, *command: str) -> str:
    """The message of a command that must refuse (exit 1) without a traceback."""
    done = subprocess.run(command, env=drill.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr


async def test_backup_never_overwrites_and_restore_refuses_what_is_not_a_backup(
    drill: Drill, tmp_path: Path
) -> None:
    drill.run(sys.executable, "-m", "booking", "migrate")
    existing = tmp_path / "yesterday.backup"
    existing.write_bytes(b"yesterday's backup")
    stray = tmp_path / "notes.txt"
    stray.write_text("not a backup\n")

    assert "exists" in refusal(drill, str(OPS / "backup"), str(existing))
    assert existing.read_bytes() == b"yesterday's backup"
    assert "is not a" in refusal(drill, str(OPS / "restore"), str(stray))
    assert "no backup at" in refusal(drill, str(OPS / "restore"), str(tmp_path / "missing"))
    # The database is untouched: it still migrates as an up-to-date one.
    assert "up to date" in drill.run(sys.executable, "-m", "booking", "migrate")


def test_the_database_password_reaches_pg_dump_in_its_environment_never_its_command_line(
    tmp_path: Path,
) -> None:
    # A stand-in pg_dump first on PATH that writes down what it was handed: what `ps` would
    # show (its arguments) and what only the process itself can read (its environment).
    shim = tmp_path / "bin"
    shim.mkdir()
    seen = tmp_path / "seen.txt"
    (shim / "pg_dump").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$*" > {seen}\nprintf "%s\\n" "$PGPASSWORD" >> {seen}\nexit 1\n'
    )
    (shim / "pg_dump").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{shim}:{os.environ['PATH']}",
        "DATABASE_URL": "postgresql://booking:s%40fe-Pass-4417@db.internal:5433/booking",
    }

    result = subprocess.run(
        [str(OPS / "backup"), str(tmp_path / "tonight.backup")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    arguments, password = seen.read_text().splitlines()
    assert "Pass-4417" not in arguments
    assert "postgresql://booking@db.internal:5433/booking" in arguments
    assert password == "s@fe-Pass-4417"
    assert result.returncode == 1  # the stand-in failed, and the script says so...
    assert "Pass-4417" not in result.stderr + result.stdout  # ...without the password
    assert not (tmp_path / "tonight.backup").exists()
