"""One request id from the booking's web line to its invitations' worker lines, as an operator
reads them: real `booking serve` and `booking worker` processes (the worker on a redis-server
of the test's own), or `booking serve` alone with its in-process worker, all logging JSON."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx

from tests.fixtures.databases import Database
from tests.integration.notifications.faults.conftest import RedisServer, WorkerProcess
from tests.integration.practice import Practice
from tests.integration.test_observability import EMAILS, NAMES, SECRET, book, serving
from tests.mailserver import MailServer, running_mail_server
from tests.waiting import eventually


def json_lines(text: str) -> list[dict[str, Any]]:
    """The complete JSON lines of a process's output (a line still being written is left out)."""
    complete = text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.startswith("{")]


def sent_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lines of deliveries that sent their message."""
    return [
        line
        for line in lines
        if line["logger"] == "booking.outbox"
        and line["message"].startswith("outbox message ")
        and ": sent in " in line["message"]
    ]


def booking_line(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The web's access line of the booking."""
    (line,) = [
        line
        for line in lines
        if line["logger"] == "uvicorn.access"
        and '"POST /api/v1/bookings HTTP/1.1" 201' in line["message"]
    ]
    return line


def assert_nothing_personal(text: str, token: str) -> None:
    for secret in [token, *EMAILS, *NAMES, *(n.split()[1] for n in NAMES), "example.org"]:
        assert secret not in text, f"{secret!r} was logged"


def worker_environment(
    database: Database, data_dir: Path, smtp: MailServer, broker_url: str
) -> dict[str, str]:
    """What the operator gives `booking worker`: the web's data directory, keys, database,
    broker and mail server (as `serving` gives `booking serve`)."""
    environment = {**os.environ, "BOOKING_DATA_DIR": str(data_dir), "BOOKING_SECRET_KEY": SECRET}
    environment.pop("DATABASE_URL", None)
    if database.url is not None:
        environment["DATABASE_URL"] = database.url
    environment.update(
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        SMTP_URL=smtp.url,
        BROKER_URL=broker_url,
        OUTBOX_POLL_SECONDS="0.05",
        PUBLIC_BASE_URL="http://127.0.0.1",
    )
    return environment


async def test_the_booking_request_id_reaches_the_worker_process_delivery_lines(
    database: Database, practice: Practice, redis_server: RedisServer, tmp_path: Path
) -> None:
    with running_mail_server() as smtp:
        async with serving(
            database, tmp_path, smtp, workers=1, BROKER_URL=redis_server.url
        ) as served:
            async with httpx.AsyncClient(base_url=served.base_url) as http:
                created = await book(http)
            request_id = created.headers["x-request-id"]
            env = worker_environment(database, tmp_path, smtp, redis_server.url)
            worker = WorkerProcess(env, tmp_path / "worker.log")
            try:

                async def both_sent() -> list[dict[str, Any]]:
                    worker.assert_running()
                    lines = sent_lines(json_lines(worker.output()))
                    return lines if len(lines) >= 2 else []

                delivered = await eventually(both_sent, within=60, interval=0.05)
            finally:
                await asyncio.to_thread(worker.stop)
        web_log = served.log.read_text()
    token = created.json()["manage_url"].rsplit("/", 1)[1]

    assert len(smtp.received) == 2  # an invitation to each partner
    assert booking_line(served.lines())["request_id"] == request_id
    assert [line["request_id"] for line in delivered] == [request_id, request_id]
    assert {line["process"] for line in delivered}.isdisjoint(
        line["process"] for line in served.lines()
    )  # the lines come from the worker's own process
    assert_nothing_personal(web_log, token)
    assert_nothing_personal(worker.output(), token)


async def test_the_booking_request_id_reaches_the_in_process_worker_delivery_lines(
    database: Database, practice: Practice, tmp_path: Path
) -> None:
    with running_mail_server() as smtp:
        async with serving(database, tmp_path, smtp, workers=1) as served:
            async with httpx.AsyncClient(base_url=served.base_url) as http:
                created = await book(http)

            async def both_sent() -> list[dict[str, Any]]:
                lines = sent_lines(served.lines())
                return lines if len(lines) >= 2 else []

            delivered = await eventually(both_sent, within=60, interval=0.05)
        web_log = served.log.read_text()
    request_id = created.headers["x-request-id"]
    token = created.json()["manage_url"].rsplit("/", 1)[1]

    assert booking_line(served.lines())["request_id"] == request_id
    assert [line["request_id"] for line in delivered] == [request_id, request_id]
    # Lines logged outside that request (the server's start, its stop) name no request.
    assert any("request_id" not in line for line in served.lines())
    assert_nothing_personal(web_log, token)
