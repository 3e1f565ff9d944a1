"""`booking serve` in development without Stripe keys starts the emulator and takes deposits
through it (as `make run` does), every payment page saying it is a test; it stops with it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.practice import Practice
from tests.integration.test_serve import serving
from tests.stripe_emulator import CARD_OK, StripeEmulator


async def test_serve_in_development_pays_through_localstripe(
    database: Database, practice: Practice, tmp_path: Path
) -> None:
    async with (
        serving(database, tmp_path, BOOKING_ENV="development") as base_url,
        httpx.AsyncClient(base_url=base_url) as http,
    ):
        times = await http.get(
            "/api/v1/availability", params={"consultation_type": "paid", "therapist": "ana"}
        )
        start = times.json()["slots"][0]["start"]
        held = (
            await http.post("/api/v1/bookings", json=booking_request(start, kind="paid"))
        ).json()
        assert held["payment"]["publishable_key"] == "pk_test_localstripe"
        page = await http.get(urlsplit(held["payment"]["pay_url"]).path)
        assert "This is a test." in page.text
        js_url = re.search(
            r'<script src="(http://127\.0\.0\.1:\d+/js\.stripe\.com/v3/)"', page.text
        )
        assert js_url is not None, page.text
        emulator = StripeEmulator(js_url.group(1).removesuffix("/js.stripe.com/v3/"))
        token = held["manage_url"].rsplit("/", 1)[1]
        payment = (await http.get(f"/api/v1/bookings/{token}/payment")).json()
        saved = await asyncio.to_thread(emulator.save_card, payment["setup_client_secret"], CARD_OK)
        paid = await http.post(
            f"/api/v1/bookings/{token}/payment", json={"setup_intent": saved["id"]}
        )
        assert paid.json()["status"] == "succeeded", paid.text
        assert paid.json()["booking"]["status"] == "confirmed"
    # The emulator ended with the service.
    async with httpx.AsyncClient(timeout=5) as http_after:
        with pytest.raises(httpx.TransportError):
            await http_after.get(emulator.js_url)
