"""What naming and timing each request costs: one trivial route, with and without the request
id middleware and the latency hook, through the ASGI app in this process; and what a log line
costs as plain text and as JSON.

`python -m tests.benchmarks.observability` (after `make install`); prints the figures that
docs/benchmarks.md records.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import statistics
import sys
import time

from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from booking.core.crypto import Keyring
from booking.core.logs import FORMAT, JsonLines, NameRequest, RedactTokens
from booking.core.settings import Settings
from booking.web.observability import RequestObservation, ResponseObservation

ROUNDS = 30
REQUESTS = 300
LINES = 20000


@get("/bookings/{manage_token:str}", sync_to_thread=False)
def view(manage_token: str) -> dict[str, str]:
    return {"status": "confirmed"}


def app(observed: bool, settings: Settings) -> Litestar:
    if not observed:
        return Litestar([view], logging_config=None)
    return Litestar(
        [view],
        middleware=[RequestObservation(settings)],
        before_send=[ResponseObservation(settings)],
        logging_config=None,
    )


async def per_request_us(client: AsyncTestClient[Litestar]) -> float:
    started = time.perf_counter()
    for _ in range(REQUESTS):
        await client.get("/bookings/" + "t" * 43)
    return (time.perf_counter() - started) / REQUESTS * 1e6


async def requests(settings: Settings) -> dict[bool, list[float]]:
    rounds: dict[bool, list[float]] = {False: [], True: []}
    async with (
        AsyncTestClient(app(False, settings)) as bare,
        AsyncTestClient(app(True, settings)) as observed,
    ):
        for client in (bare, observed):  # warm up
            await per_request_us(client)
        for _ in range(ROUNDS):  # interleaved, so the machine's load falls on both
            rounds[False].append(await per_request_us(bare))
            rounds[True].append(await per_request_us(observed))
    return rounds


def per_line_us(formatter: logging.Formatter) -> float:
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(formatter)
    handler.addFilter(RedactTokens())
    handler.addFilter(NameRequest())
    logger = logging.Logger("bench")
    logger.addHandler(handler)
    started = time.perf_counter()
    for number in range(LINES):
        logger.info('127.0.0.1:5%04d - "GET /bookings/%s HTTP/1.1" 200', number, "t" * 43)
    return (time.perf_counter() - started) / LINES * 1e6


def main() -> None:
    settings = Settings.from_env(
        {
            "BOOKING_ENV": "test",
            "BOOKING_SECRET_KEY": "benchmark-" + "x" * 40,
            "BOOKING_DATA_KEY": f"bench:{Keyring.generate_key()}",
        }
    )
    rounds = asyncio.run(requests(settings))
    bare, observed = (statistics.median(rounds[k]) for k in (False, True))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"request, bare route: {bare:.0f} us (median of {ROUNDS} rounds of {REQUESTS})")
    print(f"request, observed route: {observed:.0f} us ({observed - bare:+.0f} us)")
    plain, json_line = per_line_us(logging.Formatter(FORMAT)), per_line_us(JsonLines())
    print(f"log line, plain: {plain:.1f} us; json: {json_line:.1f} us ({LINES} lines)")


if __name__ == "__main__":
    main()
