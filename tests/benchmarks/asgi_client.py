"""A minimal ASGI caller: one HTTP request straight into the app, no client library.

The app's lifespan must already be entered on the running loop (the PostgreSQL pool belongs to
the loop that opened it).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

Message = MutableMapping[str, Any]
# Loosely typed: frameworks annotate their scope and event types more narrowly.
ASGIApp = Callable[..., Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Request:
    """A prepared request (a GET unless told): the scope is copied per call (apps write into
    it)."""

    path: str
    query: dict[str, str]
    method: str = "GET"
    body: bytes = b""

    @property
    def url(self) -> str:
        return f"{self.path}?{urlencode(self.query)}" if self.query else self.path

    def scope(self) -> dict[str, Any]:
        headers = [(b"host", b"bench.local"), (b"accept", b"application/json")]
        if self.method != "GET":
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(self.body)).encode()),
            ]
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": self.method,
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": urlencode(self.query).encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("bench.local", 80),
            "state": {},
        }


def post_json(path: str, payload: Any) -> Request:
    """A POST of `payload` as JSON."""
    return Request(path, {}, "POST", json.dumps(payload).encode())


async def call(app: ASGIApp, request: Request) -> Response:
    """Run one request through `app` and collect its status and body."""
    sent_body = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        # Only reached if the app waits for a disconnect after responding.
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body":
            chunks.append(bytes(message.get("body", b"")))

    await app(request.scope(), receive, send)
    return Response(status, b"".join(chunks))
