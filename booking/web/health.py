"""Liveness and readiness for the process supervisor and the load balancer."""

from __future__ import annotations

import asyncio

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from msgspec import Struct

from booking.piccolo_app import pending_migrations
from booking.worker import broker_state


class Live(Struct, frozen=True):
    status: str


class Readiness(Struct, frozen=True, omit_defaults=True):
    """`status` is "ok" or "unavailable"; the other fields say which part is not ready."""

    status: str
    database: str
    migrations: str | None = None
    broker: str | None = None
    detail: str | None = None


NOT_READY = ResponseSpec(
    Readiness, description="The database is unreachable or migrations are pending."
)


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]
    include_in_schema = True

    @get("/live", summary="The process is up")
    async def live(self) -> Live:
        return Live("ok")

    @get(
        "/ready",
        summary="The database is reachable and fully migrated",
        responses={HTTP_503_SERVICE_UNAVAILABLE: NOT_READY},
    )
    async def ready(self, state: State) -> Response[Readiness]:
        try:
            pending = await pending_migrations(state.engine)
        except Exception as exc:  # any failure to reach the database means not ready
            body = Readiness("unavailable", "unreachable", detail=type(exc).__name__)
            return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE)
        if pending:
            body = Readiness("unavailable", "ok", migrations=f"{pending} pending")
            return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE)
        # The broker is reported, not required: bookings go on while it is down, and the
        # outbox hands their messages over once it is back.
        settings = state.settings
        broker = await asyncio.to_thread(broker_state, settings.broker_url)
        return Response(Readiness("ok", "ok", "ok", broker), status_code=HTTP_200_OK)
