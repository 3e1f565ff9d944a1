"""Stripe events for the webhook tests: hand-signed ones (Stripe's scheme: HMAC-SHA256 of
"<timestamp>.<body>" with the endpoint's secret), and the emulator's own, caught by a small
HTTP receiver it is told to post to (`POST /_config/webhooks/{id}`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from tests.stripe_emulator import SECRET_KEY, WEBHOOK_SECRET, StripeEmulator

WEBHOOK_PATH = "/api/v1/payments/stripe/webhook"


def event_body(event_type: str, intent_id: str, event_id: str | None = None) -> bytes:
    """A Stripe event about PaymentIntent `intent_id` (its embedded object deliberately thin:
    the service must re-read the intent from Stripe)."""
    return json.dumps(
        {
            "id": event_id or f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "api_version": "2020-08-27",
            "data": {"object": {"id": intent_id, "object": "payment_intent"}},
        }
    ).encode()


def signature(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    """The Stripe-Signature header for `body` signed with `secret` at `at` (now)."""
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def signed(body: bytes, **kwargs: Any) -> dict[str, str]:
    return {"Stripe-Signature": signature(body, **kwargs), "Content-Type": "application/json"}


@dataclass
class Caught:
    body: bytes
    headers: dict[str, str]

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class EventReceiver:
    """Where the emulator posts its signed events: each is kept as it arrived."""

    server: ThreadingHTTPServer
    emulator: StripeEmulator
    hook_id: str
    caught: list[Caught] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def stop(self) -> None:
        """Unhook from the emulator, then close the port. The emulator posts each event to
        its hooks one after another, and a port left listening with nobody answering would
        hold every later test's events for aiohttp's five-minute timeout."""
        _register(self.emulator, self.hook_id, self.url, events=[])
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def wait_for(self, event_type: str, intent_id: str, within: float = 60.0) -> Caught:
        """The first event of `event_type` about `intent_id`, once it has arrived."""

        def found() -> Caught | None:
            for c in self.caught:
                e = c.event
                if e["type"] == event_type and e["data"]["object"].get("id") == intent_id:
                    return c
            return None

        with self.arrived:
            self.arrived.wait_for(lambda: found() is not None, timeout=within)
        result = found()
        assert result is not None, f"no {event_type} for {intent_id} from the emulator"
        return result


def start_receiver(emulator: StripeEmulator) -> EventReceiver:
    """A receiver on a free port, registered with the emulator for payment_intent events."""
    receiver: EventReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.arrived:
                receiver.caught.append(Caught(body, dict(self.headers.items())))
                receiver.arrived.notify_all()
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = EventReceiver(server, emulator, f"tests_{secrets.token_hex(4)}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _register(
        emulator,
        receiver.hook_id,
        receiver.url,
        events=["payment_intent.succeeded", "payment_intent.payment_failed"],
    )
    return receiver


def _register(emulator: StripeEmulator, hook_id: str, url: str, events: list[str]) -> None:
    """The emulator's hook `hook_id` posts `events` (none: it posts nothing) to `url`."""
    httpx.post(
        f"{emulator.api_base}/_config/webhooks/{hook_id}",
        json={"url": url, "secret": WEBHOOK_SECRET, "events": events},
        headers={"Authorization": f"Bearer {SECRET_KEY}"},
        timeout=10,
    ).raise_for_status()
