"""Whose X-Request-ID is believed, and what a JSON log line holds."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import pytest

from booking.core.logs import REQUEST_ID, JsonLines, NameRequest, RedactTokens
from booking.web.observability import request_id_for, trusted_networks

PROXIES = trusted_networks(("10.0.0.0/8", "::1"))


def scope(client: tuple[str, int] | None, request_id: str | None) -> Any:
    headers = [(b"x-request-id", request_id.encode())] if request_id is not None else []
    return {"type": "http", "client": client, "headers": headers}


@pytest.mark.parametrize(
    "client",
    [
        ("10.1.2.3", 51000),  # a proxy in a trusted network
        ("::1", 51000),
        ("203.0.113.9", 0),  # the forwarded client the server put there for a trusted proxy
    ],
)
def test_a_trusted_proxys_request_id_is_kept(client: tuple[str, int]) -> None:
    assert request_id_for(scope(client, "edge-42.a:b"), PROXIES) == "edge-42.a:b"


@pytest.mark.parametrize(
    ("client", "given", "proxies"),
    [
        (("203.0.113.9", 51000), "edge-42", PROXIES),  # anyone else
        (("10.1.2.3", 51000), "edge-42", ()),  # no proxy is trusted at all
        (("testclient", 50000), "edge-42", PROXIES),
        (None, "edge-42", PROXIES),
        (("10.1.2.3", 51000), "A" * 43, PROXIES),  # token-shaped: the log filter's business
        (("10.1.2.3", 51000), "a b", PROXIES),
        (("10.1.2.3", 51000), "x" * 65, PROXIES),
        (("10.1.2.3", 51000), "", PROXIES),
    ],
)
def test_any_other_request_id_is_replaced_by_a_new_one(
    client: tuple[str, int] | None, given: str, proxies: Any
) -> None:
    chosen = request_id_for(scope(client, given), proxies)
    assert chosen != given
    assert len(chosen) == 32
    assert int(chosen, 16) >= 0


def test_one_request_keeps_one_id() -> None:
    request = scope(("203.0.113.9", 51000), None)
    assert request_id_for(request, PROXIES) == request_id_for(request, PROXIES)


def test_a_json_line_names_the_request_and_holds_the_redacted_traceback() -> None:
    record = logging.LogRecord(
        "booking.test", logging.ERROR, __file__, 1, "failed for %s", ("x" * 43,), None
    )
    try:
        raise RuntimeError("lookup failed for quillon.canary@example.org")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    token = REQUEST_ID.set("edge-42")
    try:
        for step in (RedactTokens(), NameRequest()):
            assert step.filter(record)
    finally:
        REQUEST_ID.reset(token)

    line = json.loads(JsonLines().format(record))

    assert line["message"] == "failed for [token]"
    assert line["request_id"] == "edge-42"
    assert line["level"] == "ERROR"
    assert line["logger"] == "booking.test"
    assert line["time"].endswith("+00:00")
    assert "RuntimeError: lookup failed for [email]" in line["exception"]


def test_a_line_outside_a_request_names_none() -> None:
    record = logging.LogRecord("booking.test", logging.INFO, __file__, 1, "started", (), None)
    assert NameRequest().filter(record)
    assert "request_id" not in json.loads(JsonLines().format(record))
