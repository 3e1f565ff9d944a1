"""At LOG_LEVEL=DEBUG, nothing private reaches a log line: not a link token, a name, an email,
a phone number, an answer or a cancellation reason, on any route, a 500 included."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.bookings.manage import BookingManagement
from booking.core.logs import FORMAT, LIBRARY_FLOORS, SERVER_LOGGERS, JsonLines, configure_logging
from booking.core.tokens import derive_token
from booking.notifications.feeds import FeedService
from booking.notifications.tables import OutboxMessage
from booking.web.app import create_app
from tests.factories import ALL_CONSENTS, booking_request, couple_answers, partner_answers
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.notifications.conftest import mail_settings
from tests.integration.pages.conftest import HTML, booking_form, partner_form, reference_on
from tests.integration.practice import AT_9, AT_10, AT_11, MONDAY, Practice, intake_token
from tests.mailserver import free_port, running_mail_server
from tests.waiting import eventually

NAMES = ["Quillon Vantablack", "Perpetua Marchbanks", "Oswin Thistlewood", "Ysolde Brackenridge"]
EMAILS = [
    "quillon.canary@example.org",
    "perpetua.canary@example.org",
    "oswin.canary@example.org",
    "ysolde.canary@example.org",
]
PHONES = ["+1 416 555 0187", "(647) 555-0143"]
ANSWERS = [
    "Canary-Couple-Zanzibar",
    "Canary-Booker-Quetzal",
    "Canary-Partner-Narwhal",
    "Canary-Page-Partner-Okapi",
    "Canary-Page-Couple-Axolotl",
]
REASONS = ["Canary-Reason-Pangolin", "Canary-Reason-Capybara"]
CANARIES = [
    *NAMES,
    *(n.split()[0] for n in NAMES),
    *(n.split()[1] for n in NAMES),
    *EMAILS,
    *(e.split("@")[0] for e in EMAILS),
    *PHONES,
    *ANSWERS,
    *REASONS,
]


@pytest.fixture(params=["plain", "json"])
def log_format(request: pytest.FixtureRequest) -> str:
    """LOG_FORMAT: both forms of line keep the same secrets out."""
    return str(request.param)


@pytest.fixture
def service_logs(log_format: str) -> Iterator[io.StringIO]:
    """configure_logging("DEBUG", LOG_FORMAT) as `booking serve` runs it, every handler writing
    here."""
    root = logging.getLogger()
    watched = [root, *map(logging.getLogger, (*SERVER_LOGGERS, *LIBRARY_FLOORS))]
    levels = {logger.name: logger.level for logger in watched}
    runners = root.handlers[:]
    root.handlers = []  # as a fresh process starts: the service installs its own handler
    before = {logger.name: logger.handlers[:] for logger in watched}
    configure_logging("DEBUG", log_format)
    installed = [
        (logger, h) for logger in watched for h in logger.handlers if h not in before[logger.name]
    ]
    # Libraries may bring their own handler (pika adds a NullHandler on import): a writing one
    # would have to be captured too, one that writes nothing has nothing to show.
    writing = [
        h for logger in watched for h in logger.handlers if not isinstance(h, logging.NullHandler)
    ]
    assert writing
    text = io.StringIO()
    for handler in writing:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(text)
    root.handlers.extend(runners)  # the test runner's capture goes on after the service's
    try:
        yield text
    finally:
        for logger, handler in installed:
            logger.removeHandler(handler)
        for logger in watched:
            logger.setLevel(levels[logger.name])
        for handler in writing:  # a handler kept from before goes back to plain lines
            if isinstance(handler.formatter, JsonLines):
                handler.setFormatter(logging.Formatter(FORMAT))


async def drive_every_route_family(client: AsyncTestClient[Any], settings: Any) -> list[str]:
    """One request (or a few) of each family, with canary data; returns the tokens used."""
    for path in ("/", "/api/v1/therapists", "/api/v1/therapists/ana", "/api/v1/consultation-types"):
        assert (await client.get(path)).status_code == 200, path
    window = {"consultation_type": "consult", "start": MONDAY, "end": MONDAY, "tz": "UTC"}
    assert (await client.get("/api/v1/availability", params=window)).status_code == 200
    times = {"type": "consult", "therapist": "ana", "start": MONDAY}
    assert (await client.get("/times", params=times, headers=HTML)).status_code == 200
    book_query = {"type": "consult", "therapist": "ana", "start": AT_9, "tz": "America/Toronto"}
    assert (await client.get("/book", params=book_query, headers=HTML)).status_code == 200

    # The API: a booking with canary people and answers, viewed, moved, and its .ics.
    body = booking_request(AT_10, mode="phone")
    body["partners"] = [
        {"name": NAMES[0], "email": EMAILS[0], "phone": PHONES[0]},
        {"name": NAMES[1], "email": EMAILS[1], "phone": PHONES[1]},
    ]
    body["intake"]["couple"] = couple_answers(hoped_for_help=ANSWERS[0])
    body["intake"]["booker"] = partner_answers(hoped_for_change=ANSWERS[1])
    created = await client.post("/api/v1/bookings", json=body)
    assert created.status_code == 201, created.text
    api_token = created.json()["manage_url"].rsplit("/", 1)[1]
    api_partner = intake_token(created.json()["reference"], 2)
    booking = f"/api/v1/bookings/{api_token}"
    assert (await client.get(booking)).status_code == 200
    assert (await client.get(f"{booking}/invite.ics")).status_code == 200
    moved = await client.post(f"{booking}/reschedule", json={"start": AT_11})
    assert moved.status_code == 200, moved.text
    intake = f"/api/v1/intake/{api_partner}"
    assert (await client.get(intake)).status_code == 200
    answered = await client.post(
        intake,
        json={"answers": partner_answers(private_contact=ANSWERS[2]), "consents": ALL_CONSENTS},
    )
    assert answered.status_code == 200, answered.text

    # The pages: a booking by form, its manage pages, the partner's page, a move, a cancel.
    form = booking_form(
        AT_9,
        **{
            "partners[0].name": NAMES[2],
            "partners[0].email": EMAILS[2],
            "partners[1].name": NAMES[3],
            "partners[1].email": EMAILS[3],
            "intake.couple.hoped_for_help": ANSWERS[4],
        },
    )
    booked = await client.post("/book", data=form, headers=HTML)
    assert booked.status_code == 303, booked.text
    manage = booked.headers["location"].split("?")[0]
    page = await client.get(manage, headers=HTML)
    assert page.status_code == 200
    page_partner = intake_token(reference_on(page.text), 2)
    assert (await client.get(f"{manage}/reschedule", headers=HTML)).status_code == 200
    partner_page = f"/intake/{page_partner}"
    assert (await client.get(partner_page, headers=HTML)).status_code == 200
    partner = partner_form(**{"answers.private_contact": ANSWERS[3]})
    assert (await client.post(partner_page, data=partner, headers=HTML)).status_code == 200
    to_ten = await client.post(f"{manage}/reschedule", data={"start": AT_10}, headers=HTML)
    assert to_ten.status_code == 303, to_ten.text
    cancel = await client.post(f"{manage}/cancel", data={"reason": REASONS[0]}, headers=HTML)
    assert cancel.status_code == 303, cancel.text
    cancelled = await client.post(f"{booking}/cancel", json={"reason": REASONS[1]})
    assert cancelled.status_code == 200, cancelled.text

    # The therapist's feed, health and the schema.
    feed_token = (await FeedService(settings).url_for("ana")).rsplit("/", 1)[1]
    assert (await client.get(f"/feeds/{feed_token}")).status_code == 200
    for path in ("/health/live", "/health/ready", "/schema", "/schema/openapi.json"):
        assert (await client.get(path)).status_code == 200, path
    return [api_token, api_partner, manage.rsplit("/", 1)[1], page_partner, feed_token]


async def test_no_token_or_private_detail_is_logged_on_any_route_at_debug(
    service_logs: io.StringIO,
    log_format: str,
    database: Database,
    practice: Practice,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running_mail_server() as smtp:
        settings = mail_settings(smtp, BOOKING_EMBEDDED_WORKER="1", LOG_LEVEL="DEBUG")
        app = create_app(settings, database.engine, clock)
        async with AsyncTestClient(app, base_url="http://testserver.local") as client:
            client.follow_redirects = False
            tokens = await drive_every_route_family(client, settings)

            async def fails(self: BookingManagement, manage_token: str) -> None:
                raise RuntimeError(f"lookup failed for {manage_token}")

            monkeypatch.setattr(BookingManagement, "view", fails)
            failed_page = await client.get(f"/manage/{tokens[2]}", headers=HTML)
            failed_api = await client.get(f"/api/v1/bookings/{tokens[0]}")
            await eventually(_outbox_is_done, within=60)
        assert smtp.received  # the worker's delivery (and its logging) really ran

    assert failed_page.status_code == failed_api.status_code == 500
    logged = service_logs.getvalue()
    # The capture really holds the service's lines: the 500's traceback, its token taken out.
    assert "unhandled error on GET /manage/[token]" in logged
    assert "RuntimeError: lookup failed for [token]" in logged
    for secret in [*tokens, *CANARIES]:
        assert secret not in logged, f"{secret!r} was logged"
    if log_format == "json":
        lines = [json.loads(line) for line in logged.splitlines() if line.strip()]
        (failure,) = [x for x in lines if x["message"] == "unhandled error on GET /manage/[token]"]
        assert "RuntimeError: lookup failed for [token]" in failure["exception"]
        # The line names the request whose answer carried that id.
        assert failure["request_id"] == failed_page.headers["x-request-id"]


async def _outbox_is_done() -> bool:
    return not await OutboxMessage.exists().where(OutboxMessage.status == "pending")


def _get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}


@pytest.mark.parametrize("workers", [1, 2])
def test_the_servers_access_log_keeps_no_token_and_names_no_server(
    tmp_path: Path, workers: int
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BOOKING_SECRET_KEY")}
    port = free_port()
    env.update(
        BOOKING_ENV="development",
        BOOKING_DATA_DIR=str(tmp_path),
        PORT=str(port),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="DEBUG",
    )
    booking = [sys.executable, "-m", "booking"]
    for command in (["init"], ["migrate"], ["demo"]):
        subprocess.run([*booking, *command], env=env, check=True, capture_output=True)
    feed_url = subprocess.run(
        [*booking, "feed", "url", "amara-okafor"], env=env, check=True, capture_output=True
    ).stdout.decode()
    feed_path = feed_url.strip().removeprefix(f"http://127.0.0.1:{port}")
    manage_token = derive_token("not the service's key", "manage", "ABCD-EFGH", 0)
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                *booking,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while _get(f"{base}/health/ready")[0] != 200:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)  # polling interval, not a wait for readiness
            feed = _get(f"{base}{feed_path}")
            manage = _get(f"{base}/manage/{manage_token}")
        finally:
            server.terminate()
            server.wait(timeout=20)

    logged = log.read_text()
    assert feed[0] == 200
    assert manage[0] == 404
    assert '"GET /feeds/[token].ics HTTP/1.1" 200' in logged  # the access log is there...
    assert '"GET /manage/[token] HTTP/1.1" 404' in logged
    assert feed_path.removeprefix("/feeds/").removesuffix(".ics") not in logged  # ...token-free
    assert manage_token not in logged
    assert "server" not in {name.lower() for name in (*feed[1], *manage[1])}
