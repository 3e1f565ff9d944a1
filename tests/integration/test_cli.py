"""The `booking` command as an operator runs it, in a separate process."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BOOKING = [sys.executable, "-m", "booking"]


def run(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "BOOKING_DATA_DIR": str(data_dir), "BOOKING_ENV": "development"}
    environment.pop("DATABASE_URL", None)
    environment.update(env)
    return subprocess.run(
        [*BOOKING, *args], env=environment, capture_output=True, text=True, timeout=120
    )


def test_migrate_then_demo_twice_seeds_the_practice_once(tmp_path: Path) -> None:
    assert run(tmp_path, "init").returncode == 0
    assert run(tmp_path, "migrate").returncode == 0
    first = run(tmp_path, "demo")
    second = run(tmp_path, "demo")

    assert first.returncode == 0, first.stderr
    assert "therapist amara-okafor" in first.stdout
    assert second.stdout.strip() == "Demo data already present."
    with sqlite3.connect(tmp_path / "booking.sqlite3") as db:
        zones = [z for (z,) in db.execute("SELECT timezone FROM therapists")]
        types = [t for (t,) in db.execute("SELECT slug FROM consultation_types ORDER BY slug")]
    assert len(zones) == 3
    assert set(zones) == {"America/Toronto", "America/Vancouver"}
    assert types == ["couples-consultation", "intro-call"]


def test_demo_refuses_a_production_database(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "demo",
        BOOKING_ENV="production",
        BOOKING_SECRET_KEY="x" * 40,
        PUBLIC_BASE_URL="https://book.example.org",
        BOOKING_DATA_KEY="k1:" + "A" * 43 + "=",
        SMTP_URL="smtp://mail.example.org:587",
        PRACTICE_ALERT_EMAIL="intake@example.org",
    )
    assert result.returncode != 0
    assert "not added to a production database" in result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PRACTICE_TIMEZONE": "Mars/Base"}, "PRACTICE_TIMEZONE must be an IANA time zone"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL must be a postgresql:// URL"),
        ({"BOOKING_ENV": "production"}, "BOOKING_SECRET_KEY is required in production"),
    ],
)
def test_bad_configuration_stops_with_a_message_naming_it(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = run(tmp_path, "check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_feed_commands_give_rotate_and_switch_invitations(tmp_path: Path) -> None:
    assert run(tmp_path, "init").returncode == 0
    assert run(tmp_path, "migrate").returncode == 0
    assert run(tmp_path, "demo").returncode == 0

    first = run(tmp_path, "feed", "url", "amara-okafor")
    rotated = run(tmp_path, "feed", "rotate", "amara-okafor")
    off = run(tmp_path, "feed", "invitations", "amara-okafor", "off")
    unknown = run(tmp_path, "feed", "url", "nobody")

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().startswith("http://localhost:8000/feeds/")
    assert first.stdout.strip().endswith(".ics")
    assert rotated.stdout.strip() != first.stdout.strip()
    assert off.returncode == 0
    with sqlite3.connect(tmp_path / "booking.sqlite3") as db:
        (flag,) = db.execute(
            "SELECT email_invitations FROM therapists WHERE slug = 'amara-okafor'"
        ).fetchone()
    assert not flag
    assert unknown.returncode != 0


async def test_rotate_keys_and_sweep_as_an_operator_runs_them(tmp_path: Path) -> None:

    from litestar.testing import AsyncTestClient

    from booking.core.crypto import Keyring
    from booking.core.db import close_pool, sqlite_engine
    from booking.core.settings import Settings
    from booking.web.app import create_app
    from tests.factories import booking_request

    assert run(tmp_path, "init").returncode == 0
    assert run(tmp_path, "migrate").returncode == 0
    assert run(tmp_path, "demo").returncode == 0
    settings = Settings.from_env(
        {**os.environ, "BOOKING_DATA_DIR": str(tmp_path), "BOOKING_EMBEDDED_WORKER": "0"}
    )
    engine = sqlite_engine(str(tmp_path / "booking.sqlite3"))
    try:
        async with AsyncTestClient(create_app(settings, engine)) as client:
            times = await client.get(
                "/api/v1/availability",
                params={"consultation_type": "intro-call", "therapist": "amara-okafor"},
            )
            start = times.json()["slots"][0]["start"]
            body = booking_request(start, therapist="amara-okafor", kind="intro-call")
            body["partners"][0]["phone"] = "416-555-0100"
            body["mode"] = "phone"
            assert (await client.post("/api/v1/bookings", json=body)).status_code == 201
    finally:
        await close_pool(engine)
    old = (tmp_path / "data_key").read_text().strip()
    both = f"k2027:{Keyring.generate_key()},{old}"

    rotated = run(tmp_path, "rotate-keys", BOOKING_DATA_KEY=both)
    again = run(tmp_path, "rotate-keys", BOOKING_DATA_KEY=both)
    swept = run(tmp_path, "sweep")

    assert rotated.returncode == 0, rotated.stderr
    # The couple part, the booker's own part and its version 1 (the partner has not answered).
    assert rotated.stdout.splitlines() == [
        "Re-encrypted 3 records under key k2027.",
        "Re-sealed the second factor of 0 staff accounts.",
    ]
    assert again.stdout.splitlines()[0] == "Re-encrypted 0 records under key k2027."
    assert swept.stdout.strip() == "Expired 0 unpaid holds."
    with sqlite3.connect(tmp_path / "booking.sqlite3") as db:
        (stored,) = db.execute("SELECT couple_answers FROM bookings").fetchone()
        (version,) = db.execute("SELECT answers FROM intake_answer_versions").fetchone()
    assert stored.startswith("k2027$")
    assert version.startswith("k2027$")
