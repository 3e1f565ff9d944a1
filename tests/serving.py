"""`booking serve` as a process of its own, for the tests that need the real command: started,
awaited until /health/ready answers 200 (its log shown if it dies first), stopped after."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.waiting import eventually


@asynccontextmanager
async def booking_serve(
    arguments: tuple[str, ...], environment: dict[str, str], log_path: Path, base_url: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m booking serve ARGUMENTS` writing to `log_path`; yields it once `base_url`
    answers ready, and terminates it (then kills it, if it lingers) whatever happens."""
    with log_path.open("w") as log:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "booking", "serve", *arguments),
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            async with httpx.AsyncClient(base_url=base_url) as http:

                async def ready() -> bool:
                    if process.returncode is not None:
                        raise AssertionError(await asyncio.to_thread(log_path.read_text))
                    try:
                        return (await http.get("/health/ready")).status_code == 200
                    except httpx.TransportError:
                        return False

                await eventually(ready, within=30, interval=0.1)
            yield process
        finally:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=15)
            except TimeoutError:
                process.kill()
                await process.wait()
