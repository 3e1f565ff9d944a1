"""What the SMTP server refuses: a temporary refusal is retried with backoff, a permanent one
waits for the operator (`booking outbox failed`, `booking outbox redrive`), and a message the
server keeps deferring gives up after MAX_ATTEMPTS.

Runs on every broker the `delivering` fixture knows (embedded always; Redis and RabbitMQ when
configured). The app and its worker read the test's fixed clock, which the test moves on.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from booking.notifications.messages import message_id_for
from booking.notifications.outbox import MAX_ATTEMPTS, retry_delay
from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.notifications.conftest import Delivering
from tests.integration.notifications.faults.conftest import (
    BOOKING,
    all_sent,
    command_env,
    message_ids,
    outbox_rows,
    outbox_when,
    sqlite_directory,
    statuses,
)
from tests.integration.practice import AT_10, Practice

TEMPORARY = "451 4.7.1 Try again later"
PERMANENT = "550 5.1.1 No such user"


async def book(delivering: Delivering) -> dict[str, Any]:
    response = await delivering.client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def settled(count: int) -> list[dict[str, Any]]:
    """The outbox once its `count` rows have each been tried at least once."""
    return await outbox_when(
        lambda rows: (
            len(rows) == count and all(r["status"] != "pending" or r["attempts"] > 0 for r in rows)
        )
    )


def tried(count: int, attempts: int) -> Callable[[list[dict[str, Any]]], bool]:
    """Whether the outbox holds `count` rows, each tried `attempts` times."""
    return lambda rows: len(rows) == count and all(r["attempts"] == attempts for r in rows)


async def operator(
    database: Database, tmp_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """`booking <args>` in a process of its own, on the test's database."""
    data_dir = sqlite_directory(database) if database.url is None else tmp_path / "operator"
    result = await asyncio.to_thread(
        subprocess.run,
        [*BOOKING, *args],
        env=command_env(database, data_dir),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result


async def test_a_temporary_refusal_is_retried_after_the_backoff_and_sent_once(
    delivering: Delivering, practice: Practice, clock: FixedClock
) -> None:
    smtp = delivering.smtp
    smtp.respond(TEMPORARY)
    await book(delivering)

    rows = await settled(2)
    (deferred,) = [r for r in rows if r["status"] == "pending"]
    assert deferred["attempts"] == 1
    assert deferred["last_error"] == "SMTP 451: 4.7.1 Try again later"
    assert deferred["next_attempt_at"] == clock.now + retry_delay(1)
    assert deferred["next_attempt_at"] > clock.now
    assert statuses(rows) == {"sent": 1, "pending": 1}
    assert len(smtp.received) == 1

    clock.now += retry_delay(1) + timedelta(seconds=1)

    await delivering.wait_for(2)
    rows = await outbox_when(all_sent)
    retried = next(r for r in rows if r["id"] == deferred["id"])
    assert retried["attempts"] == 2
    expected = {message_id_for(r["dedupe_key"], delivering.settings.domain) for r in rows}
    assert message_ids(smtp.received) == dict.fromkeys(expected, 1)
    assert smtp.attempts == 3  # two first tries, one retry: nothing sent twice


async def test_a_permanent_refusal_waits_for_the_operator_and_a_redrive_sends_it(
    delivering: Delivering,
    practice: Practice,
    clock: FixedClock,
    database: Database,
    tmp_path: Path,
) -> None:
    smtp = delivering.smtp
    smtp.respond(PERMANENT)
    booked = await book(delivering)

    rows = await settled(2)
    (failed,) = [r for r in rows if r["status"] == "failed"]
    assert failed["attempts"] == 1
    assert failed["last_error"] == "SMTP 550: 5.1.1 No such user"
    assert statuses(rows) == {"sent": 1, "failed": 1}

    listing = await operator(database, tmp_path, "outbox", "failed")
    (line,) = listing.stdout.strip().splitlines()
    assert line.split("\t") == [
        str(failed["id"]),
        booked["reference"],
        "invitation",
        failed["recipient"],
        "attempts=1",
        "SMTP 550: 5.1.1 No such user",
    ]

    redriven = await operator(database, tmp_path, "outbox", "redrive", "--all")
    assert redriven.stdout.strip() == "Queued 1 message again."
    (again,) = [r for r in await outbox_rows() if r["id"] == failed["id"]]
    # The command stamps the real time; the app's clock moves on to it if it is behind.
    clock.now = max(clock.now, again["next_attempt_at"])

    received = await delivering.wait_for(2)
    rows = await outbox_when(all_sent)
    expected = {message_id_for(r["dedupe_key"], delivering.settings.domain) for r in rows}
    assert message_ids(received) == dict.fromkeys(expected, 1)
    assert smtp.attempts == 3
    listing = await operator(database, tmp_path, "outbox", "failed")
    assert listing.stdout.strip() == "No failed messages."


async def test_a_message_deferred_max_attempts_times_fails_for_good(
    delivering: Delivering, practice: Practice, clock: FixedClock
) -> None:
    smtp = delivering.smtp
    # Both partners' invitations are deferred at every try.
    smtp.respond(*[TEMPORARY] * (2 * MAX_ATTEMPTS))
    await book(delivering)

    for attempt in range(1, MAX_ATTEMPTS + 1):
        await asyncio.to_thread(smtp.wait_for_attempts, 2 * attempt)
        rows = await outbox_when(tried(2, attempt))
        if attempt < MAX_ATTEMPTS:
            assert statuses(rows) == {"pending": 2}, rows
            assert all(r["next_attempt_at"] == clock.now + retry_delay(attempt) for r in rows)
            clock.now += retry_delay(attempt) + timedelta(seconds=1)

    assert statuses(rows) == {"failed": 2}
    assert all(r["last_error"] == "SMTP 451: 4.7.1 Try again later" for r in rows)
    assert smtp.received == []
    assert smtp.attempts == 2 * MAX_ATTEMPTS
    assert smtp.answers == []
