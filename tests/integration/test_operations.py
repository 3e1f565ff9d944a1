"""What an operator relies on: health, the OpenAPI document, migrations."""

from __future__ import annotations

from pathlib import Path

import httpx
from httpx import AsyncClient

from booking.core.db import sqlite_engine
from booking.core.settings import Settings
from booking.piccolo_app import migrate, migration_ids, pending_migrations
from booking.web.app import create_app
from tests.asgi import asgi_transport
from tests.fixtures.databases import Database


async def test_live_and_ready_when_migrated(client: AsyncClient) -> None:
    assert (await client.get("/health/live")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ok"


async def test_not_ready_while_migrations_are_pending(tmp_path: Path) -> None:
    engine = sqlite_engine(str(tmp_path / "empty.sqlite3"))
    every = len(migration_ids())
    assert every >= 2
    assert await pending_migrations(engine) == every
    app = create_app(Settings.from_env(), engine)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=asgi_transport(app), base_url="http://t") as raw,
    ):
        response = await raw.get("/health/ready")
        assert response.status_code == 503
        assert response.json()["migrations"] == f"{every} pending"
        await migrate(engine)
        assert (await raw.get("/health/ready")).status_code == 200


async def test_migrations_are_idempotent(database: Database) -> None:
    await migrate(database.engine)
    assert await pending_migrations(database.engine) == 0


async def test_openapi_document_lists_every_public_endpoint(client: AsyncClient) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/api/v1/therapists",
        "/api/v1/consultation-types",
        "/api/v1/availability",
        "/health/live",
        "/health/ready",
    ):
        assert path in paths, path
    parameters = {p["name"] for p in paths["/api/v1/availability"]["get"]["parameters"]}
    assert parameters == {"consultation_type", "therapist", "start", "end", "tz"}
    assert "/" not in paths  # pages are not part of the API
