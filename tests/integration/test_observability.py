"""`booking serve` as an operator watches it: JSON log lines naming each request, and
Prometheus metrics on a port of their own, after real requests and a real delivery."""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from booking.core.datadir import initialise
from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.practice import Practice
from tests.mailserver import MailServer, free_port, running_mail_server
from tests.serving import booking_serve
from tests.waiting import eventually

SECRET = "observe-test-secret-" + "x" * 30
PEER = "127.0.0.1"
SPOOFED = "203.0.113.9"
NAMES = ["Quillon Vantablack", "Perpetua Marchbanks"]
EMAILS = ["quillon.canary@example.org", "perpetua.canary@example.org"]
HEX_ID = re.compile(r"[0-9a-f]{32}")


@dataclass
class Served:
    base_url: str
    metrics_url: str
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        """The service's complete JSON lines (the command's own banner is plain text)."""
        text = self.log.read_text()
        complete = text[: text.rfind("\n") + 1]  # a line still being written is left out
        return [json.loads(line) for line in complete.splitlines() if line.startswith("{")]

    def processes_answering(self, request: str) -> set[int]:
        """The processes whose access lines show `request` (`GET /path`) answered."""
        return {
            line["process"]
            for line in self.lines()
            if line["logger"] == "uvicorn.access" and f'"{request} HTTP/1.1"' in line["message"]
        }


@asynccontextmanager
async def serving(
    database: Database, data_dir: Path, smtp: MailServer, workers: int, **env: str
) -> AsyncIterator[Served]:
    """`booking serve --workers N` on the test's database with JSON logs at DEBUG and a
    metrics port; yields its URLs once it is ready, its log complete once it has stopped."""
    initialise(data_dir, secret_key=False)
    port, metrics_port = free_port(), free_port()
    environment = {**os.environ, "BOOKING_DATA_DIR": str(data_dir), "BOOKING_SECRET_KEY": SECRET}
    environment.pop("DATABASE_URL", None)
    if database.url is not None:
        environment["DATABASE_URL"] = database.url
    environment.update(
        LOG_FORMAT="json",
        LOG_LEVEL="DEBUG",
        METRICS_PORT=str(metrics_port),
        SMTP_URL=smtp.url,
        BOOKING_EMBEDDED_WORKER="1",
        OUTBOX_POLL_SECONDS="0.05",
        PUBLIC_BASE_URL=f"http://{PEER}:{port}",
        **env,
    )
    log_path = data_dir / f"serve-{port}.log"
    served = Served(f"http://{PEER}:{port}", f"http://{PEER}:{metrics_port}/metrics", log_path)
    command = ("--host", PEER, "--port", str(port), "--workers", str(workers))
    async with booking_serve(command, environment, log_path, served.base_url):
        yield served


async def book(http: httpx.AsyncClient) -> httpx.Response:
    """Books the first open time of the practice's free consultation, for canary people."""
    times = await http.get(
        "/api/v1/availability", params={"consultation_type": "consult", "therapist": "ana"}
    )
    body = booking_request(times.json()["slots"][0]["start"])
    body["partners"] = [{"name": n, "email": e} for n, e in zip(NAMES, EMAILS, strict=True)]
    created = await http.post("/api/v1/bookings", json=body)
    assert created.status_code == 201, created.text
    return created


def samples(text: str, name: str) -> dict[str, float]:
    """Each sample of metric `name` in a scrape, keyed by its label text (`{a="b"}` or "")."""
    found: dict[str, float] = {}
    for line in text.splitlines():
        match = re.fullmatch(rf"{re.escape(name)}(\{{.*\}})? (\S+)", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


async def test_two_web_processes_report_requests_bookings_and_a_delivery_on_the_metrics_port(
    database: Database, practice: Practice, tmp_path: Path
) -> None:
    with running_mail_server() as smtp:
        async with serving(database, tmp_path, smtp, workers=2) as served:
            async with httpx.AsyncClient(base_url=served.base_url) as http:
                public = [(await http.get(p)).status_code for p in ("/metrics", "/metrics/")]
                created = await book(http)
                token = created.json()["manage_url"].rsplit("/", 1)[1]
            views = 0

            async def both_processes_answered() -> bool:
                # A connection of its own each time, so either process may take it.
                nonlocal views
                async with httpx.AsyncClient(base_url=served.base_url) as viewer:
                    assert (await viewer.get(f"/api/v1/bookings/{token}")).status_code == 200
                views += 1
                return len(served.processes_answering("GET /api/v1/bookings/[token]")) == 2

            await eventually(both_processes_answered, within=60, interval=0.05)
            await eventually(lambda: _received(smtp, 2), within=60, interval=0.05)

            async def delivered() -> str:
                async with httpx.AsyncClient() as scraper:
                    text = (await scraper.get(served.metrics_url)).text
                sent = samples(text, "booking_outbox_deliveries_total").get('{outcome="sent"}')
                return text if sent is not None and sent >= 2 else ""

            scrape = await eventually(delivered, within=30, interval=0.1)

    assert public == [404, 404]  # the public site serves no metrics
    requests = samples(scrape, "booking_http_request_duration_seconds_count")
    assert requests['{method="POST",route="/api/v1/bookings",status="201"}'] == 1
    # One sum over both processes' counts.
    assert requests['{method="GET",route="/api/v1/bookings/{manage_token}",status="200"}'] == views
    assert samples(scrape, "booking_bookings") == {'{status="confirmed"}': 1}
    assert samples(scrape, "booking_outbox_due_messages") == {"": 0}
    assert samples(scrape, "booking_outbox_oldest_due_age_seconds") == {"": 0}
    assert samples(scrape, "booking_outbox_messages")['{status="sent"}'] >= 2
    assert samples(scrape, "booking_outbox_delivery_failures_total") == {"": 0}
    for secret in [token, *EMAILS, *NAMES, "example.org"]:
        assert secret not in scrape, f"{secret!r} is in a metric"
    # Every line the two processes and their workers wrote is JSON; none holds a secret.
    lines = served.lines()
    assert lines, served.log.read_text()
    logged = json.dumps(lines)
    for secret in [token, *EMAILS, *NAMES, *(n.split()[1] for n in NAMES)]:
        assert secret not in logged, f"{secret!r} was logged"
    assert len({line["process"] for line in lines}) >= 2


async def _received(smtp: MailServer, count: int) -> bool:
    return len(smtp.received) >= count


async def test_the_request_id_is_echoed_and_named_on_the_access_line_a_clients_own_ignored(
    database: Database, practice: Practice, tmp_path: Path
) -> None:
    with running_mail_server() as smtp:
        async with (
            serving(database, tmp_path, smtp, workers=1) as served,
            httpx.AsyncClient(base_url=served.base_url) as http,
        ):
            chosen = await http.get("/api/v1/therapists", headers={"X-Request-ID": "mine-1"})
            unknown = await http.get("/no/such/page")

    given = chosen.headers["x-request-id"]
    assert HEX_ID.fullmatch(given)  # not the client's: it is no trusted proxy
    assert HEX_ID.fullmatch(unknown.headers["x-request-id"])
    assert unknown.status_code == 404
    (access,) = [
        line
        for line in served.lines()
        if line["logger"] == "uvicorn.access"
        and '"GET /api/v1/therapists HTTP/1.1" 200' in line["message"]
    ]
    assert access["request_id"] == given


async def test_a_trusted_proxys_request_id_is_kept_through_its_forwarded_address(
    database: Database, practice: Practice, tmp_path: Path
) -> None:
    with running_mail_server() as smtp:
        async with (
            serving(
                database, tmp_path, smtp, workers=1, TRUSTED_PROXIES=f"10.0.0.0/8,{PEER}"
            ) as served,
            httpx.AsyncClient(base_url=served.base_url) as http,
        ):
            forwarded = await http.get(
                "/api/v1/therapists",
                headers={"X-Request-ID": "proxy-7f3a", "X-Forwarded-For": SPOOFED},
            )
            direct = await http.get("/api/v1/therapists", headers={"X-Request-ID": "proxy-8b"})
            token_shaped = await http.get("/api/v1/therapists", headers={"X-Request-ID": "A" * 43})

    assert forwarded.headers["x-request-id"] == "proxy-7f3a"
    assert direct.headers["x-request-id"] == "proxy-8b"
    assert HEX_ID.fullmatch(token_shaped.headers["x-request-id"])
    named = {
        line.get("request_id") for line in served.lines() if line["logger"] == "uvicorn.access"
    }
    assert {"proxy-7f3a", "proxy-8b"} <= named
