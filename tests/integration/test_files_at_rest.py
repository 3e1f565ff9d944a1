"""What the service leaves on disk is readable by its own user only, whatever the umask.

Each step runs as an operator runs it, in a process of its own with the umask under test:
`booking init` (the only step that writes secrets), `booking migrate`, and the first start
of the service; `booking check` in between writes nothing.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

BOOKING = [sys.executable, "-m", "booking"]

# The service started on its data directory, one request served, and then, while its SQLite
# connections are still open (so the -wal and -shm files exist), the mode of every entry.
FIRST_START = """
import asyncio, json, os, sys
from litestar.testing import AsyncTestClient
from booking.web.app import create_app
from booking.core.settings import Settings

async def main() -> None:
    settings = Settings.from_env()
    async with AsyncTestClient(create_app(settings)) as client:
        assert (await client.get("/health/ready")).status_code == 200
        assert (await client.get("/api/v1/therapists")).status_code == 200
        modes = {
            entry.name: entry.stat().st_mode & 0o777 for entry in settings.data_dir.iterdir()
        }
        print(json.dumps(modes))

asyncio.run(main())
"""


def run(data_dir: Path, umask: int, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "BOOKING_DATA_DIR": str(data_dir),
        "BOOKING_ENV": "development",
        "BOOKING_EMBEDDED_WORKER": "0",
    }
    for name in ("DATABASE_URL", "BOOKING_SECRET_KEY", "BOOKING_DATA_KEY"):
        environment.pop(name, None)
    result = subprocess.run(
        args, env=environment, capture_output=True, text=True, timeout=120, umask=umask
    )
    assert result.returncode == 0, result.stderr
    return result


def modes(directory: Path) -> dict[str, int]:
    return {entry.name: stat.S_IMODE(entry.stat().st_mode) for entry in directory.iterdir()}


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_every_file_the_service_creates_is_private_from_the_start(
    tmp_path: Path, umask: int
) -> None:
    data_dir = tmp_path / "var"

    run(data_dir, umask, *BOOKING, "init")
    after_init = modes(data_dir)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    run(data_dir, umask, *BOOKING, "check")
    assert modes(data_dir) == after_init

    run(data_dir, umask, *BOOKING, "migrate")
    after_migrate = modes(data_dir)

    started = run(data_dir, umask, sys.executable, "-c", FIRST_START)
    while_running: dict[str, int] = json.loads(started.stdout.strip().splitlines()[-1])

    assert after_init == {"secret_key": 0o600, "data_key": 0o600}
    assert after_migrate["booking.sqlite3"] == 0o600
    assert {"booking.sqlite3", "booking.sqlite3-wal", "booking.sqlite3-shm", "data_key"} <= set(
        while_running
    )
    assert while_running == dict.fromkeys(while_running, 0o600)
    assert modes(data_dir) == dict.fromkeys(modes(data_dir), 0o600)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
