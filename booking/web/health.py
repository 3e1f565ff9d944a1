"""Liveness and readiness for the process supervisor and the load balancer."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from booking.piccolo_app import pending_migrations
from booking.worker import broker_state


class HealthController(Controller):
    path = "/health"
    tags = ["operations"]
    include_in_schema = True

    @get("/live", summary="The process is up")
    async def live(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="The database is reachable and fully migrated")
    async def ready(self, state: State) -> Response[dict[str, Any]]:
        try:
            pending = await pending_migrations(state.engine)
        except Exception as exc:  # any failure to reach the database means not ready
            body = {
                "status": "unavailable",
                "database": "unreachable",
                "detail": type(exc).__name__,
            }
            return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE)
        if pending:
            body = {"status": "unavailable", "database": "ok", "migrations": f"{pending} pending"}
            return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE)
        # The broker is reported, not required: bookings go on while it is down, and the
        # outbox hands their messages over once it is back.
        settings = state.settings
        broker = await asyncio.to_thread(broker_state, settings.broker_url)
        body = {"status": "ok", "database": "ok", "migrations": "ok", "broker": broker}
        return Response(body, status_code=HTTP_200_OK)
