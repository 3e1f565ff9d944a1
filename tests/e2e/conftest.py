"""The real service in a subprocess and the system Chromium, for the browser suite.

Run with `make test-browser`. The browser is the machine's own Chromium (never a download):
without it the suite fails and says how to install it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.mailserver import MailServer, running_mail_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BIN = Path(sys.executable).parent
READY_WITHIN = 30.0  # seconds


@dataclass(frozen=True)
class Server:
    base_url: str
    data_dir: Path
    # The SMTP sink every email of the service goes to (its in-process worker sends them).
    mail: MailServer

    @property
    def log(self) -> str:
        """What the server has written so far (its own output and access log)."""
        return (self.data_dir / "server.log").read_text()

    @property
    def secret_key(self) -> str:
        return (self.data_dir / "secret_key").read_text().strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.fixture(scope="session")
def mail_sink() -> Iterator[MailServer]:
    with running_mail_server() as sink:
        yield sink


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, mail_sink: MailServer) -> Iterator[Server]:
    """`booking init`, `booking migrate`, `booking demo`, then `booking serve` on a free port,
    sending its emails to the SMTP sink."""
    data_dir = tmp_path_factory.mktemp("e2e-data")
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "BOOKING_SECRET_KEY", "BOOKING_DATA_KEY")
    }
    env.update(
        BOOKING_ENV="development",
        BOOKING_DATA_DIR=str(data_dir),
        RATE_LIMIT_PER_MINUTE="1000",
        PORT=str(port),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        # Everything the service logs, so a test can look for what must never be in it.
        LOG_LEVEL="DEBUG",
        # Therapists too sign in with a second factor, as in production.
        STAFF_REQUIRE_TOTP="1",
        # The test suite's own environment turns the in-process worker off; the real service
        # sends its emails, to the sink.
        BOOKING_EMBEDDED_WORKER="1",
        SMTP_URL=mail_sink.url,
    )
    for command in ("init", "migrate", "demo"):
        subprocess.run([BIN / "booking", command], env=env, check=True, capture_output=True)
    log = (data_dir / "server.log").open("w")
    process = subprocess.Popen(
        [BIN / "booking", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_WITHIN
    try:
        while not _ready(f"{base_url}/health/ready"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"the service did not become ready within {READY_WITHIN:.0f}s:\n"
                    + (data_dir / "server.log").read_text()
                )
            time.sleep(0.1)  # polling interval, not a wait for readiness
        yield Server(base_url, data_dir, mail_sink)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser suite needs the system Chromium at {CHROMIUM}: "
            "run `apt-get install -y chromium` (as root) and try again.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A phone-sized page in Toronto time."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, timezone_id="America/Toronto", locale="en-CA"
    )
    context.set_default_timeout(15_000)
    opened = context.new_page()
    yield opened
    context.close()
