"""The Stripe emulator for development: `booking serve` without Stripe keys outside production
starts localstripe (a development dependency) and points the service at it, so `make run`
takes deposits with the test card 4242 4242 4242 4242 and no money moves.

localstripe keeps its objects in memory (`--from-scratch`: nothing reloaded from an earlier
run) and signs the webhooks it sends to the URL registered with `register_webhook`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# The test-mode keys the emulator accepts (any key of the right form would do).
EMULATOR_SECRET_KEY = "sk_test_localstripe"
EMULATOR_PUBLISHABLE_KEY = "pk_test_localstripe"
# The events the service's webhook handles.
WEBHOOK_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
)
# Seconds localstripe may take to start listening.
START_WITHIN = 30.0


class EmulatorUnavailable(RuntimeError):
    """localstripe is not installed, or did not start."""


@dataclass
class LocalStripe:
    """A running localstripe: its API base (STRIPE_API_BASE) and its Stripe.js URL."""

    api_base: str
    process: subprocess.Popen[bytes]
    output: list[str] = field(default_factory=list)

    @property
    def js_url(self) -> str:
        return f"{self.api_base}/js.stripe.com/v3/"

    def environment(self, webhook_secret: str) -> dict[str, str]:
        """The variables that point the service (and its worker processes) at this emulator."""
        return {
            "STRIPE_SECRET_KEY": EMULATOR_SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": EMULATOR_PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": webhook_secret,
            "STRIPE_API_BASE": self.api_base,
            "STRIPE_JS_URL": self.js_url,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(24)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def localstripe_command() -> list[str]:
    """`localstripe` beside this interpreter (the locked development dependency)."""
    beside = Path(sys.executable).with_name("localstripe")
    found = str(beside) if beside.exists() else shutil.which("localstripe")
    if found is None:
        raise EmulatorUnavailable(
            "localstripe is not installed (a development dependency: `make install`)"
        )
    return [found]


def start_localstripe(port: int | None = None) -> LocalStripe:
    """Start `localstripe --from-scratch --port P` and return once it answers.

    Its output is read (and kept, the first lines) until it ends, so its access log never
    fills a pipe. Raises EmulatorUnavailable.
    """
    port = port or free_port()
    process = subprocess.Popen(
        [*localstripe_command(), "--from-scratch", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    emulator = LocalStripe(api_base=f"http://127.0.0.1:{port}", process=process)
    listening = threading.Event()

    def read() -> None:
        for raw in process.stdout or ():
            line = raw.decode("utf-8", "replace")
            if len(emulator.output) < 200:
                emulator.output.append(line)
            if "Running on" in line:
                listening.set()
        listening.set()  # it ended: stop waiting

    threading.Thread(target=read, daemon=True, name=f"localstripe-{port}").start()
    if not listening.wait(START_WITHIN) or process.poll() is not None:
        emulator.stop()
        raise EmulatorUnavailable("localstripe did not start:\n" + "".join(emulator.output))
    try:
        httpx.get(emulator.js_url, timeout=10).raise_for_status()
    except httpx.HTTPError as error:
        emulator.stop()
        raise EmulatorUnavailable(f"localstripe does not answer: {error}") from None
    return emulator


def register_webhook(emulator: LocalStripe, url: str, secret: str) -> None:
    """Have the emulator sign and send its payment events to `url`."""
    answer = httpx.post(
        f"{emulator.api_base}/_config/webhooks/booking",
        json={"url": url, "secret": secret, "events": list(WEBHOOK_EVENTS)},
        timeout=10,
    )
    answer.raise_for_status()
