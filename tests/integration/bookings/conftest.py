"""A small practice for booking tests: Ana in Toronto, Mondays 09:00-12:00."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from booking.app import create_app
from booking.settings import Settings, get_settings
from booking.tokens import derive_token
from tests.factories import make_therapist, make_type
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock

MONDAY = "2026-12-07"  # the tests' clock reads Wednesday 2026-12-02, 10:00 in Toronto
AT_9 = f"{MONDAY}T09:00:00-05:00"
AT_10 = f"{MONDAY}T10:00:00-05:00"
AT_11 = f"{MONDAY}T11:00:00-05:00"


@dataclass(frozen=True)
class Practice:
    type_id: int
    paid_type_id: int
    therapist_id: int


@pytest.fixture
async def practice(database: object) -> Practice:
    type_id = await make_type("consult", modes=["video", "phone"])
    paid = await make_type(
        "paid",
        price_amount=15000,
        deposit_amount=5000,
        payment_hold_minutes=15,
        modes=["video"],
    )
    therapist_id = await make_therapist(
        "ana", types=(type_id, paid), hours=((0, "09:00", "12:00"),), modes=["video", "phone"]
    )
    return Practice(type_id, paid, therapist_id)


def manage_token(manage_url: str) -> str:
    return manage_url.rsplit("/", 1)[1]


def intake_token(reference: str, position: int, generation: int = 0) -> str:
    """The partner link the service derives (emails carry it from the invitations issue on)."""
    return derive_token(get_settings().secret_key, "intake", f"{reference}:{position}", generation)


class InFlight:
    """An ASGI wrapper that counts requests being handled at the same moment."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.now = 0
        self.most = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


@dataclass
class ConcurrentClient:
    http: httpx.AsyncClient
    in_flight: InFlight


@pytest.fixture
async def concurrent(database: Database, clock: FixedClock) -> AsyncIterator[ConcurrentClient]:
    """Requests as tasks on the app itself, on the test's loop, so they truly interleave.

    (AsyncTestClient hands each request to its portal and waits: its requests never overlap.)
    """
    app = create_app(Settings.from_env(), database.engine, clock)
    counted = InFlight(app)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=counted), base_url="http://testserver.local"
        ) as http,
    ):
        yield ConcurrentClient(http, counted)
