"""`booking links revoke`, as an operator runs it: the old link stops working, the new one
reaches the person it belongs to, and no one else."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from booking.core.audit import AuditEvent
from booking.notifications.tables import OutboxMessage
from tests.clocked_cli import CLOCK_ENV
from tests.factories import ALL_CONSENTS, booking_request, partner_answers
from tests.fixtures.databases import Database
from tests.integration.conftest import NOW
from tests.integration.notifications.conftest import Delivering
from tests.integration.notifications.faults.conftest import command_env, sqlite_directory
from tests.integration.practice import AT_10, Practice, intake_token, manage_token
from tests.mailserver import Received

HTML = {"Accept": "text/html"}
BASE = "https://book.harbour.example"


async def revoke(
    delivering: Delivering, database: Database, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`booking links revoke …` in its own process, on the test's database and secret, at the
    test's time (the app's relay claims what the command queues by that same clock)."""
    data_dir = sqlite_directory(database) if database.url is None else tmp_path
    env = command_env(
        database,
        data_dir,
        BOOKING_SECRET_KEY=delivering.settings.secret_key,
        **{CLOCK_ENV: NOW.isoformat()},
    )
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tests.clocked_cli", "links", "revoke", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def readable(received: Received) -> str:
    """The message's text and HTML as its reader sees them (decoded from their transfer
    encoding)."""
    parts = received.message.walk()
    return "\n".join(
        p.get_content() for p in parts if p.get_content_type() in ("text/plain", "text/html")
    )


def links_in(received: Received, kind: str) -> set[str]:
    """The paths of the `kind` links in the message's text and HTML."""
    return set(re.findall(rf"{BASE}(/{kind}/[A-Za-z0-9_-]{{43}})", readable(received)))


async def book(delivering: Delivering) -> dict[str, Any]:
    response = await delivering.client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert response.status_code == 201, response.text
    await delivering.wait_for(2)
    return dict(response.json())


async def test_revoking_the_manage_link_sends_both_partners_the_new_one(
    delivering: Delivering, database: Database, practice: Practice, tmp_path: Path
) -> None:
    booked = await book(delivering)
    old = manage_token(booked["manage_url"])

    result = await revoke(delivering, database, tmp_path, booked["reference"].lower())

    assert result.returncode == 0, result.stderr
    assert "Replaced the manage link" in result.stdout
    assert old not in result.stdout
    renewed = (await delivering.wait_for(4))[2:]
    assert sorted(m.recipients[0] for m in renewed) == ["robin@example.org", "sam@example.org"]
    (new_path,) = links_in(renewed[0], "manage")
    for received in renewed:
        assert received.message["Subject"].startswith("A new link for your consultation")
        assert links_in(received, "manage") == {new_path}
        assert links_in(received, "intake") == set()
        assert not [p for p in received.message.walk() if p.get_filename()]
    client = delivering.client
    assert (await client.get(f"/api/v1/bookings/{old}")).status_code == 404
    assert (await client.get(f"/manage/{old}", headers=HTML)).status_code == 404
    assert (await client.post(f"/api/v1/bookings/{old}/cancel")).status_code == 404
    view = await client.get(f"/api/v1/bookings/{new_path.rsplit('/', 1)[1]}")
    assert view.status_code == 200
    assert view.json()["reference"] == booked["reference"]
    assert (await client.get(new_path, headers=HTML)).status_code == 200
    events = await AuditEvent.select(AuditEvent.actor, AuditEvent.record).where(
        AuditEvent.action == "link.revoked"
    )
    assert events == [{"actor": "system", "record": "manage link"}]


async def test_revoking_a_partners_intake_link_sends_it_to_that_partner_only(
    delivering: Delivering, database: Database, practice: Practice, tmp_path: Path
) -> None:
    booked = await book(delivering)
    reference = booked["reference"]
    old = intake_token(reference, 2)

    result = await revoke(delivering, database, tmp_path, reference, "--partner", "2")

    assert result.returncode == 0, result.stderr
    (renewed,) = (await delivering.wait_for(3))[2:]
    assert renewed.recipients == ["sam@example.org"]
    assert [a.addr_spec for a in renewed.message["To"].addresses] == ["sam@example.org"]
    (new_path,) = links_in(renewed, "intake")
    assert new_path == f"/intake/{intake_token(reference, 2, generation=1)}"
    assert links_in(renewed, "manage") == set()
    assert intake_token(reference, 1) not in readable(renewed)
    client = delivering.client
    answer = {"answers": partner_answers(), "consents": ALL_CONSENTS}
    assert (await client.get(f"/api/v1/intake/{old}")).status_code == 404
    assert (await client.post(f"/api/v1/intake/{old}", json=answer)).status_code == 404
    assert (await client.get(f"/intake/{old}", headers=HTML)).status_code == 404
    new_token = new_path.rsplit("/", 1)[1]
    assert (await client.get(new_path, headers=HTML)).status_code == 200
    assert (await client.post(f"/api/v1/intake/{new_token}", json=answer)).status_code == 200
    # The manage link is untouched.
    assert (await client.get(f"/api/v1/bookings/{manage_token(booked['manage_url'])}")).is_success
    events = await AuditEvent.select(AuditEvent.actor, AuditEvent.record).where(
        AuditEvent.action == "link.revoked"
    )
    assert events == [{"actor": "system", "record": "partner:2 intake link"}]


async def test_an_unknown_booking_or_partner_is_refused_with_a_message(
    delivering: Delivering, database: Database, practice: Practice, tmp_path: Path
) -> None:
    booked = await book(delivering)

    unknown = await revoke(delivering, database, tmp_path, "ZZZZ-ZZZZ")
    third = await revoke(delivering, database, tmp_path, booked["reference"], "--partner", "3")

    assert unknown.returncode != 0
    assert "No booking has this reference." in unknown.stderr
    assert third.returncode != 0
    assert "--partner" in third.stderr
    assert await OutboxMessage.count().where(OutboxMessage.kind.like("new_%")) == 0
