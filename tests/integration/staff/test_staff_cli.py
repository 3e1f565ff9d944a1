"""`booking staff add|list|password|disable|reset` and the demo staff, run as an operator runs
them (a separate process, the password on standard input), on the test's database; then the
accounts are used through the sign-in pages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from booking.core.audit import AuditEvent
from booking.staff.principal import Role
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import Practice
from tests.staff_support import StaffLogin, session_cookie, sign_in

PASSWORD = "lighthouse harbour morning"


def booking(database: Database, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    if database.url is None:
        data_dir = Path(database.sqlite_path).parent
        env = {**os.environ, "BOOKING_DATA_DIR": str(data_dir)}
        env.pop("DATABASE_URL", None)
    else:
        env = {**os.environ, "DATABASE_URL": database.url}
    env["BOOKING_ENV"] = "development"
    if database.url is None:
        subprocess.run(
            [sys.executable, "-m", "booking", "init"], env=env, capture_output=True, check=True
        )
    return subprocess.run(
        [sys.executable, "-m", "booking", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_an_account_added_from_the_command_line_signs_in_with_its_own_password(
    database: Database, practice: Practice, client: AsyncTestClient[Any], clock: FixedClock
) -> None:
    added = booking(
        database,
        "staff",
        "add",
        "--email",
        "Ana.Lima@Staff.Example.org",
        "--role",
        "therapist",
        "--therapist",
        "ana",
        "--name",
        "Ana Lima",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    listed = booking(database, "staff", "list")

    assert listed.stdout.splitlines() == ["ana.lima@staff.example.org\ttherapist\tana\tactive"]
    login = StaffLogin(0, "ANA.LIMA@staff.example.org", PASSWORD, Role.THERAPIST)
    response = await sign_in(client, login, at=clock())
    assert response.headers["location"] == "/staff"  # its own password: no change asked for


async def test_a_second_account_for_one_therapist_and_a_weak_password_are_refused(
    database: Database, practice: Practice
) -> None:
    common = ["staff", "add", "--role", "therapist", "--therapist", "ana", "--password-stdin"]
    weak = booking(database, *common, "--email", "a@staff.example.org", stdin="password1234\n")
    first = booking(database, *common, "--email", "b@staff.example.org", stdin=PASSWORD)
    second = booking(database, *common, "--email", "c@staff.example.org", stdin=PASSWORD)

    assert weak.returncode == 1
    assert "too common" in weak.stderr
    assert first.returncode == 0, first.stderr
    assert second.returncode == 1
    assert "That therapist has an account already." in second.stderr


async def test_password_disable_and_reset_end_sessions_and_are_audited_as_the_system(
    database: Database, practice: Practice, client: AsyncTestClient[Any], clock: FixedClock
) -> None:
    email = "ops@staff.example.org"
    booking(
        database,
        "staff",
        "add",
        "--email",
        email,
        "--role",
        "therapist",
        "--therapist",
        "ana",
        "--password-stdin",
        stdin=PASSWORD,
    )
    await sign_in(client, StaffLogin(0, email, PASSWORD, Role.THERAPIST), at=clock())
    assert session_cookie(client) is not None

    changed = booking(
        database, "staff", "password", email, "--password-stdin", stdin="a brand new passphrase\n"
    )
    assert changed.returncode == 0, changed.stderr
    assert (await client.get("/staff/account")).status_code == 303
    reset = booking(database, "staff", "reset", email)
    one_time = re.search(r"first sign-in\): (\S+)", reset.stdout)
    assert one_time is not None
    response = await sign_in(
        client, StaffLogin(0, email, one_time.group(1), Role.THERAPIST), at=clock()
    )
    assert response.headers["location"] == "/staff/password"  # a one-time password
    disabled = booking(database, "staff", "disable", email)

    assert disabled.returncode == 0, disabled.stderr
    assert "disabled" in booking(database, "staff", "list").stdout
    assert (await client.get("/staff/password")).status_code == 303
    enabled = booking(database, "staff", "enable", email)
    assert enabled.returncode == 0, enabled.stderr
    assert "disabled" not in booking(database, "staff", "list").stdout
    actions = await (
        AuditEvent.select(AuditEvent.action)
        .where(AuditEvent.actor == "system", AuditEvent.action.like("staff.%"))
        .output(as_list=True)
    )
    assert sorted(actions) == sorted(
        [
            "staff.account_created",
            "staff.password_changed",
            "staff.account_reset",
            "staff.account_disabled",
            "staff.account_enabled",
        ]
    )


def test_demo_adds_an_admin_and_one_account_per_demo_therapist_once(tmp_path: Path) -> None:
    env = {**os.environ, "BOOKING_DATA_DIR": str(tmp_path), "BOOKING_ENV": "development"}
    env.pop("DATABASE_URL", None)

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "booking", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    run("init")
    run("migrate")
    first = run("demo")
    second = run("demo")

    lines = [line for line in first.splitlines() if line.startswith("Demo staff account")]
    assert len(lines) == 4
    assert "admin@harbour-counselling.example (admin)" in lines[0]
    assert "Demo staff account" not in second
    listed = run("staff", "list").splitlines()
    assert {line.split("\t")[2] for line in listed} == {
        "-",
        "amara-okafor",
        "daniel-reyes",
        "priya-sharma",
    }
