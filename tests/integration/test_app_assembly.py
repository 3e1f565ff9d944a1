"""create_app(settings, engine) reads no environment and writes no file: everything it needs
is handed over, so a test, a server and a worker each assemble it from what they were given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest

from booking.core.crypto import Keyring
from booking.core.settings import Settings
from booking.core.variables import VARIABLES
from booking.web.app import create_app
from tests.asgi import asgi_transport
from tests.fixtures.databases import Database

# The service's own variables; the standard library and the framework may look up theirs
# (PYTHONASYNCIODEBUG when the worker's loop starts), which configure no part of the service.
SERVICE_VARIABLES = {v.name for v in VARIABLES} | {"TEST_DATABASE_URL"}


class GuardedEnvironment(dict[str, str]):
    """Stands in for os.environ (a copy of it): reading one of the service's variables, or
    going through the whole environment, fails the test and names what was asked."""

    def _check(self, key: object) -> None:
        if key in SERVICE_VARIABLES or str(key).startswith("BOOKING_"):
            raise AssertionError(f"the environment was read: {key!r}")

    def __getitem__(self, key: str) -> str:
        self._check(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._check(key)
        return super().__contains__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._check(key)
        return super().get(key, default)

    def _whole(self, *args: object) -> NoReturn:
        raise AssertionError("the whole environment was read")

    __iter__ = keys = items = values = copy = _whole


def listing(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*"))


@pytest.fixture
def handed_over(tmp_path: Path) -> Settings:
    """Settings for an empty data directory, every secret given, the in-process worker and
    the hold sweeper on (the lifespan starts both)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return Settings.from_env(
        {
            "BOOKING_ENV": "development",
            "BOOKING_DATA_DIR": str(data_dir),
            "BOOKING_SECRET_KEY": "s" * 40,
            "BOOKING_DATA_KEY": f"k1:{Keyring.generate_key()}",
            "BOOKING_EMBEDDED_WORKER": "1",
            "HOLD_SWEEP_SECONDS": "60",
        }
    )


async def test_create_app_and_its_lifespan_read_no_environment_and_write_no_file(
    database: Database, handed_over: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = handed_over.data_dir
    environment = dict(os.environ)
    monkeypatch.setattr(os, "environ", GuardedEnvironment(environment))
    try:
        app = create_app(handed_over, database.engine)
        assert listing(data_dir) == []
        async with (
            app.lifespan(),
            httpx.AsyncClient(transport=asgi_transport(app), base_url="http://t") as http,
        ):
            assert (await http.get("/health/ready")).status_code == 200
            assert (await http.get("/api/v1/therapists")).status_code == 200
    finally:
        monkeypatch.undo()

    assert listing(data_dir) == []
    assert dict(os.environ) == environment


def test_importing_the_entry_points_reads_no_settings_and_writes_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    environment = {
        **{k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES},
        # Settings read from here would fail (no init step), and would create nothing.
        "BOOKING_ENV": "development",
        "BOOKING_DATA_DIR": str(data_dir),
    }
    imports = "import booking.asgi, booking.worker_process, booking.piccolo_conf, booking.cli"

    result = subprocess.run(
        [sys.executable, "-c", imports],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert not data_dir.exists()
