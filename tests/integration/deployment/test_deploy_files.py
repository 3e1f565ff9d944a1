"""The container build and compose files run what CI proves: their commands are the ones
ops/README.md gives, and with their environment (only what differs between a container host
and this machine replaced: other containers' addresses, the placeholders of the env file, the
listening address, paths under the image's working directory) those commands, run here as
plain processes in production mode, migrate, serve, answer the health check, and deliver a
booking's invitations through a worker. No container engine is needed.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import secrets
import signal
import subprocess
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.factories import booking_request, make_therapist, make_type
from tests.fixtures.databases import Database
from tests.integration.deployment.deploy_files import (
    OPS,
    ROOT,
    Containerfile,
    compose,
    env_file,
    readme_commands,
)
from tests.integration.notifications.faults.conftest import RedisServer
from tests.mailserver import MailServer, free_port, running_mail_server
from tests.waiting import eventually

PASSWORD = {"POSTGRES_PASSWORD": "compose-test-password"}
BOOKING_SERVICES = ("migrate", "web", "worker")
# What a container host has and this machine does not, each replaced in the files' values.
REPLACED = ("DATABASE_URL", "BROKER_URL", "SMTP_URL", "BOOKING_SECRET_KEY", "BOOKING_DATA_KEY")


def joined(command: list[str]) -> str:
    return " ".join(command)


def test_the_image_and_compose_run_only_commands_the_readme_gives() -> None:
    image = Containerfile.read()
    services = compose(PASSWORD)["services"]
    given = readme_commands()

    for name in BOOKING_SERVICES:
        assert joined(services[name]["command"]) in given, name
    # The image's own command is the web service's.
    assert image.command == services["web"]["command"]
    # Installed from the lock file, with the uv the Makefile pins.
    assert any("uv sync --frozen --no-dev" in run for run in image.all("RUN"))
    pinned = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert pinned is not None
    assert any(f'"uv=={pinned[1]}"' in run for run in image.all("RUN"))
    # Everything it copies exists, and ops/backup's pg_dump matches the database's version.
    for arguments in image.all("COPY"):
        for source in arguments.split()[:-1]:
            assert (ROOT / source).exists(), source
    database_image = services["db"]["image"]
    major = database_image.rsplit(":", 1)[1].split(".")[0]
    assert any(f"postgresql-client-{major}" in run for run in image.all("RUN")), database_image


def test_the_systemd_units_run_only_commands_the_readme_gives() -> None:
    given = readme_commands()
    for unit in ("booking.service", "booking-worker.service"):
        text = (OPS / unit).read_text()
        for command in re.findall(r"^ExecStart(?:Pre)?=(\S+) (.+)$", text, re.M):
            executable, arguments = command
            assert executable == "/srv/booking/.venv/bin/booking", unit
            assert f"booking {arguments}" in given, (unit, arguments)
    backup = (OPS / "booking-backup.service").read_text()
    assert "exec /srv/booking/ops/backup " in backup
    assert "EnvironmentFile=/etc/booking/env" in backup


def test_compose_without_a_database_password_is_refused() -> None:
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        compose({})


def test_the_proxy_logs_no_token_and_sets_the_client_address_itself() -> None:
    config = (OPS / "proxy" / "nginx.conf").read_text()
    (log_format,) = re.findall(r"log_format booking ([^;]+);", config)
    for leaky in ("$request ", "$request_uri", "$args", "$query_string", "$http_"):
        assert leaky not in log_format.replace('"', " ") + " ", leaky
    # The map that makes the logged path, in Python's spelling of its named groups.
    pattern, replacement = re.findall(r'"~(\^[^"]+)" "([^"]+)";', config)[0]
    redact = re.compile(pattern.replace("(?<", "(?P<"))
    token = secrets.token_urlsafe(32)
    for path in (f"/manage/{token}/cancel", f"/api/v1/intake/{token}", f"/feeds/{token}.ics"):
        match = redact.match(path)
        assert match is not None, path
        logged = replacement
        for name, value in match.groupdict().items():
            logged = logged.replace(f"${name}", value)
        assert token not in logged, logged
        assert "[token]" in logged, logged
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config
    assert re.search(r"listen 443 ssl;", config)
    assert re.search(r"client_max_body_size \d+k;", config)
    # The trusted proxy compose names is that network's gateway.
    composed = compose(PASSWORD)
    (network,) = composed["networks"]["booking"]["ipam"]["config"]
    assert composed["services"]["web"]["environment"]["TRUSTED_PROXIES"] == network["gateway"]


@pytest.fixture
def mail() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Service:
    """One compose service's command and environment, as a plain process here."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                env=env,
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def assert_running(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.process.returncode}:\n{self.output()}")

    def stop(self) -> None:
        """SIGTERM to its main process (as compose's stop_signal), then the group if need be."""
        if self.process.poll() is None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def here(
    service: dict[str, Any],
    image: Containerfile,
    database: Database,
    redis_url: str,
    mail: MailServer,
    data_dir: Path,
) -> dict[str, str]:
    """The service's environment as the container would have it, then adapted to here."""
    workdir = image.one("WORKDIR")
    env = {
        **image.environment(os.environ["PATH"]),
        **env_file(OPS / f"{service['env_file']}.example"),
        **service["environment"],
    }
    env = {name: value.replace(workdir, str(ROOT)) for name, value in env.items()}
    assert set(REPLACED) <= set(env), set(REPLACED) - set(env)
    assert urlsplit(env["DATABASE_URL"]).hostname == "db"
    assert urlsplit(env["BROKER_URL"]).hostname == "redis"
    assert database.url is not None
    env |= {
        "DATABASE_URL": database.url,
        "BROKER_URL": redis_url,
        "SMTP_URL": mail.url,
        "BOOKING_SECRET_KEY": secrets.token_urlsafe(48),
        "BOOKING_DATA_KEY": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "BOOKING_DATA_DIR": str(data_dir),
        "HOME": str(data_dir),
    }
    assert env["BOOKING_ENV"] == "production"
    return env


def run(command: list[str], env: dict[str, str]) -> None:
    """Run a command to its end; a failure shows its output."""
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stderr}"


def listening_here(command: list[str], port: int) -> list[str]:
    """The command with its listening address this machine's loopback and a free port."""
    swapped = list(command)
    swapped[swapped.index("--host") + 1] = "127.0.0.1"
    swapped[swapped.index("--port") + 1] = str(port)
    return swapped


async def test_the_compose_services_migrate_serve_and_deliver_as_plain_processes(
    deployment_postgres: Database, own_redis: RedisServer, mail: MailServer, tmp_path: Path
) -> None:
    # Given the compose services' commands and environment, adapted to this machine.
    image = Containerfile.read()
    services = compose(PASSWORD)["services"]
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o700)
    env = {
        name: here(services[name], image, deployment_postgres, own_redis.url, mail, data_dir)
        for name in BOOKING_SERVICES
    }
    shared = ("BOOKING_SECRET_KEY", "BOOKING_DATA_KEY")
    for name in ("web", "worker"):
        env[name].update({key: env["migrate"][key] for key in shared})

    # When migrate runs, then web and worker start.
    await asyncio.to_thread(run, services["migrate"]["command"], env["migrate"])
    kind = await make_type("consult", min_notice_minutes=0, modes=["video", "phone"])
    await make_therapist(
        "ana",
        timezone="UTC",
        types=(kind,),
        hours=tuple((day, "00:00", "23:59") for day in range(7)),
        modes=["video", "phone"],
    )
    port = free_port()
    web = Service(
        "web", listening_here(services["web"]["command"], port), env["web"], tmp_path / "web.log"
    )
    worker = Service("worker", services["worker"]["command"], env["worker"], tmp_path / "w.log")
    try:
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url) as http:

            async def ready() -> bool:
                web.assert_running()
                with suppress(httpx.TransportError):
                    return (await http.get("/health/ready")).status_code == 200
                return False

            await eventually(ready, within=60, interval=0.1)
            # Then compose's health check passes against it.
            check = services["web"]["healthcheck"]["test"]
            assert check[0] == "CMD"
            probe = [part.replace(":8000/", f":{port}/") for part in check[1:]]
            await asyncio.to_thread(run, probe, env["web"])

            # And a booking's invitations reach the mail server through the worker.
            slots = await http.get(
                "/api/v1/availability",
                params={"consultation_type": "consult", "therapist": "ana", "tz": "UTC"},
            )
            earliest = datetime.now(UTC) + timedelta(minutes=5)
            start = next(
                s["start"]
                for s in slots.json()["slots"]
                if datetime.fromisoformat(s["start"]) >= earliest
            )
            created = await http.post("/api/v1/bookings", json=booking_request(start))
            assert created.status_code == 201, created.text
            assert created.json()["manage_url"].startswith("https://book.example.org/")

        async def delivered() -> bool:
            worker.assert_running()
            return len(mail.received) >= 2

        await eventually(delivered, within=60, interval=0.1)
        await asyncio.to_thread(mail.wait_for, 2)
    finally:
        worker.stop()
        web.stop()
    assert sorted(r.recipients[0] for r in mail.received) == [
        "robin@example.org",
        "sam@example.org",
    ], worker.output()
