"""`booking serve` as it runs in production, in separate processes on the test's database:
whose address a request comes from, and one rate limit for every web process."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from booking.core.audit import AuditEvent
from booking.core.clients import address_digest
from booking.core.datadir import initialise
from booking.core.ratelimit import RateLimitHit
from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.practice import Practice
from tests.mailserver import free_port
from tests.serving import booking_serve

SECRET = "serve-test-secret-" + "x" * 30
PEER = "127.0.0.1"
SPOOFED = "203.0.113.9"


@asynccontextmanager
async def serving(database: Database, data_dir: Path, **env: str) -> AsyncIterator[str]:
    """`booking serve` on a free port on the test's database (its data directory through the
    init step); yields its base URL."""
    initialise(data_dir, secret_key=False)
    port = free_port()
    environment = {**os.environ, "BOOKING_DATA_DIR": str(data_dir), "BOOKING_SECRET_KEY": SECRET}
    environment.pop("DATABASE_URL", None)
    if database.url is not None:
        environment["DATABASE_URL"] = database.url
    environment.update(env, LOG_LEVEL="WARNING")
    log_path = data_dir / f"serve-{port}.log"
    base_url = f"http://{PEER}:{port}"
    async with booking_serve(
        ("--host", PEER, "--port", str(port)), environment, log_path, base_url
    ):
        yield base_url


async def book_through(base_url: str, headers: dict[str, str]) -> None:
    """Books the first open time of the practice's free consultation (today's real clock)."""
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        times = await http.get(
            "/api/v1/availability", params={"consultation_type": "consult", "therapist": "ana"}
        )
        start = times.json()["slots"][0]["start"]
        created = await http.post("/api/v1/bookings", json=booking_request(start))
        assert created.status_code == 201, created.text


async def seen_as() -> tuple[list[str], list[str]]:
    """The booking's audit address, and the rate-limit buckets counted."""
    audited = await AuditEvent.select(AuditEvent.client_address).where(
        AuditEvent.action == "intake.submitted"
    )
    keys = await RateLimitHit.select(RateLimitHit.window_key)
    return [a["client_address"] for a in audited], [k["window_key"].split(":")[0] for k in keys]


async def test_a_forwarded_address_from_an_untrusted_peer_changes_nothing(
    database: Database, practice: Practice, tmp_path: Path
) -> None:
    # uvicorn's own FORWARDED_ALLOW_IPS would trust everyone: TRUSTED_PROXIES (unset) wins.
    async with serving(database, tmp_path, FORWARDED_ALLOW_IPS="*") as base_url:
        await book_through(base_url, {"X-Forwarded-For": SPOOFED})

    audited, buckets = await seen_as()
    assert audited == [PEER]
    assert buckets == [address_digest(SECRET, PEER)]


async def test_a_trusted_proxy_names_the_client_address(
    database: Database, practice: Practice, tmp_path: Path
) -> None:
    async with serving(database, tmp_path, TRUSTED_PROXIES=f"10.0.0.0/8,{PEER}") as base_url:
        await book_through(base_url, {"X-Forwarded-For": SPOOFED})

    audited, buckets = await seen_as()
    assert audited == [SPOOFED]
    assert buckets == [address_digest(SECRET, SPOOFED)]


async def test_two_web_processes_share_one_rate_limit(
    database: Database, practice: Practice, tmp_path: Path
) -> None:
    limit = {"RATE_LIMIT_PER_MINUTE": "5"}
    async with (
        serving(database, tmp_path, **limit) as first,
        serving(database, tmp_path, **limit) as second,
        httpx.AsyncClient() as http,
    ):
        # The window is the clock's minute: start the burst well inside one, not at its end.
        left = 60 - time.time() % 60
        if left < 15:
            await asyncio.sleep(left)
        responses = await asyncio.gather(
            *(
                # Empty bodies: refused as invalid (422), but counted like any write.
                http.post(f"{(first, second)[n % 2]}/api/v1/bookings", json={})
                for n in range(12)
            )
        )

    statuses = [r.status_code for r in responses]
    # Six requests to each process: with a count of its own, each would have let five through.
    assert sorted(statuses) == [422] * 5 + [429] * 7, statuses
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["error"]["code"] == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 60
