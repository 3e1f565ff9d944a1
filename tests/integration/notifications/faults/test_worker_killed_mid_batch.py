"""A `booking worker` killed (SIGKILL, the whole process group) in the middle of a batch loses
no message and sends none twice: a new worker delivers the rest once the dead one's leases run
out.

The one window where a resend cannot be avoided: the SMTP server has answered 250 (it took the
message) and the worker dies before it records the row as sent. The outbox still says
`pending`, so the next worker sends the message again. That resend carries the same
Message-ID: it is derived from the row's dedupe key (`message_id_for`), not drawn at
random, so mail systems and clients can recognise the duplicate. This test kills the worker
outside that window (its two delivery threads each hold a message the server has not answered,
and each recorded its previous message before taking the next), so every message must arrive
exactly once; it also checks that every message carries the Message-ID of its row's key, which
is what makes a resend in that window harmless.

The worker is a separate process on a redis-server of the test's own and on the test's
database; it reads the real clock, so the practice is open every day with no notice period and
the bookings are at the first open slots.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from booking.core.settings import Settings
from booking.notifications.messages import message_id_for
from booking.web.app import create_app
from tests.factories import booking_request, make_therapist, make_type
from tests.fixtures.databases import Database
from tests.integration.notifications.conftest import mail_settings
from tests.integration.notifications.faults.conftest import (
    RedisServer,
    WorkerProcess,
    all_sent,
    command_env,
    message_ids,
    outbox_rows,
    outbox_when,
    sqlite_directory,
    statuses,
)
from tests.mailserver import MailServer

BOOKINGS = 5  # two invitations each (the therapist has no email address)
LET_THROUGH = 3  # messages the server accepts before it starts holding
THREADS = 2  # the worker's delivery threads: both end up held


async def open_starts(client: AsyncTestClient[Any], count: int) -> list[str]:
    """The first `count` open slots that do not overlap, at least five minutes from now."""
    response = await client.get(
        "/api/v1/availability",
        params={"consultation_type": "consult", "therapist": "ana", "tz": "UTC"},
    )
    assert response.status_code == 200, response.text
    earliest = datetime.now(UTC) + timedelta(minutes=5)
    starts: list[str] = []
    free_from = earliest
    for slot in response.json()["slots"]:
        start = datetime.fromisoformat(slot["start"])
        if start >= free_from:
            starts.append(slot["start"])
            # 50 minutes and a 10-minute buffer: the next booking starts an hour later.
            free_from = start + timedelta(hours=1)
        if len(starts) == count:
            return starts
    raise AssertionError(f"only {len(starts)} open slots: {response.text}")


def worker_env(
    settings: Settings, database: Database, redis_server: RedisServer, data_dir: Path
) -> dict[str, str]:
    """What an operator would give `booking worker`: the web app's broker, mail server,
    public URL, secret and data keys, and its database."""
    if database.url is None:
        data_dir = sqlite_directory(database)
    settings.keyring()  # the development key file exists from here on
    return command_env(
        database,
        data_dir,
        BROKER_URL=redis_server.url,
        SMTP_URL=str(settings.smtp_url),
        PUBLIC_BASE_URL=settings.public_base_url,
        MAIL_FROM=settings.mail_from,
        OUTBOX_POLL_SECONDS="0.05",
        OUTBOX_LEASE_SECONDS="2",
        BOOKING_SECRET_KEY=settings.secret_key,
        BOOKING_DATA_KEY=(settings.data_dir / "data_key").read_text().strip(),
        LOG_LEVEL="INFO",
    )


async def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    database: Database, smtp: MailServer, redis_server: RedisServer, tmp_path: Path
) -> None:
    settings = mail_settings(
        smtp, BROKER_URL=redis_server.url, BOOKING_EMBEDDED_WORKER="0", REMINDER_HOURS="0"
    )
    kind = await make_type("consult", min_notice_minutes=0, modes=["video", "phone"])
    await make_therapist(
        "ana",
        types=(kind,),
        hours=tuple((day, "00:00", "23:59") for day in range(7)),
        modes=["video", "phone"],
    )
    # The real clock, as the worker process has no other.
    app = create_app(settings, database.engine)
    async with AsyncTestClient(app, base_url="http://testserver.local") as client:
        for start in await open_starts(client, BOOKINGS):
            response = await client.post("/api/v1/bookings", json=booking_request(start))
            assert response.status_code == 201, response.text

    rows = await outbox_rows(kind=None)
    assert statuses(rows) == {"pending": 2 * BOOKINGS}
    expected = {message_id_for(r["dedupe_key"], settings.domain) for r in rows}
    assert len(expected) == len(rows)
    env = worker_env(settings, database, redis_server, tmp_path / "worker")

    smtp.hold_next(count=THREADS, after=LET_THROUGH)
    first = WorkerProcess(env, tmp_path / "worker-1.log")
    try:
        await asyncio.to_thread(first.wait_for, smtp.holding)
    finally:
        first.kill()

    # What the operator finds after the crash: what the server accepted is recorded as sent,
    # the rest (the two held messages among them) is still pending.
    rows = await outbox_rows(kind=None)
    assert statuses(rows) == {"sent": LET_THROUGH, "pending": 2 * BOOKINGS - LET_THROUGH}
    assert len(smtp.received) == LET_THROUGH
    assert smtp.attempts == LET_THROUGH + THREADS
    # The held messages are answered 451 now, to connections nobody listens on any more.
    smtp.release.set()

    second = WorkerProcess(env, tmp_path / "worker-2.log")

    def delivered(rows: list[dict[str, Any]]) -> bool:
        second.assert_running()
        return all_sent(rows)

    try:
        rows = await outbox_when(delivered, within=30, kind=None)
        received = await asyncio.to_thread(smtp.wait_for, len(rows))
    finally:
        second.stop()

    assert len(rows) == 2 * BOOKINGS, second.output()
    assert message_ids(received) == dict.fromkeys(expected, 1)
    assert message_ids(smtp.received) == dict.fromkeys(expected, 1)
    # The held two were tried twice; everything else once.
    assert smtp.attempts == len(rows) + THREADS
    # Each row's message carries the Message-ID of its key, and the row records it: a resend
    # from the window after the server's 250 would carry the very same one.
    for row in rows:
        assert row["message_id"] == message_id_for(row["dedupe_key"], settings.domain)
