"""`booking worker` as an operator watches it: JSON lines that name no one, and its deliveries
counted on its own metrics port, scraped over HTTP."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from booking.web.app import create_app
from tests.factories import booking_request, make_therapist, make_type
from tests.fixtures.databases import Database
from tests.integration.notifications.conftest import mail_settings
from tests.integration.notifications.faults.conftest import (
    RedisServer,
    WorkerProcess,
    all_sent,
    outbox_when,
)
from tests.integration.notifications.faults.test_worker_killed_mid_batch import (
    open_starts,
    worker_env,
)
from tests.mailserver import MailServer, free_port
from tests.waiting import eventually

NAMES = ["Oswin Thistlewood", "Ysolde Brackenridge"]
EMAILS = ["oswin.canary@example.org", "ysolde.canary@example.org"]


def sample(text: str, line_start: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_a_worker_counts_its_deliveries_on_its_metrics_port_and_logs_json_without_names(
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
    async with AsyncTestClient(create_app(settings, database.engine)) as client:
        (start,) = await open_starts(client, 1)
        body = booking_request(start)
        body["partners"] = [{"name": n, "email": e} for n, e in zip(NAMES, EMAILS, strict=True)]
        created = await client.post("/api/v1/bookings", json=body)
        assert created.status_code == 201, created.text
    token = created.json()["manage_url"].rsplit("/", 1)[1]
    port = free_port()
    env = worker_env(settings, database, redis_server, tmp_path / "worker")
    env.update(LOG_FORMAT="json", LOG_LEVEL="DEBUG", WORKER_METRICS_PORT=str(port))

    worker = WorkerProcess(env, tmp_path / "worker.log")
    try:

        def delivered(rows: list[dict[str, Any]]) -> bool:
            worker.assert_running()
            return all_sent(rows)

        rows = await outbox_when(delivered, within=30, kind=None)

        async def scraped() -> str:
            async with httpx.AsyncClient() as http:
                text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            sent = sample(text, 'booking_outbox_deliveries_total{outcome="sent"}')
            return text if sent == len(rows) else ""

        scrape = await eventually(scraped, within=20, interval=0.1)
    finally:
        await asyncio.to_thread(worker.stop)

    assert len(rows) == 2  # an invitation to each partner
    assert sample(scrape, "booking_outbox_delivery_failures_total") == 0
    assert sample(scrape, "booking_outbox_delivery_duration_seconds_count") == 2
    lines = [line for line in worker.output().splitlines() if line.strip()]
    # Every line of the supervisor and its worker process is one JSON object.
    records = [json.loads(line) for line in lines]
    assert {"Dramatiq" in r["message"] for r in records} >= {True}, worker.output()
    for secret in [token, *EMAILS, *NAMES, *(n.split()[0] for n in NAMES)]:
        assert secret not in scrape, f"{secret!r} is in a metric"
        assert secret not in worker.output(), f"{secret!r} was logged"
    assert not re.search(r"[\w.+-]+@[\w-]+\.", scrape)
