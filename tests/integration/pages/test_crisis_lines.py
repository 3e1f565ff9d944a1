"""Every page, public or private, errors too, ends with the crisis lines the practice
configured (SUPPORT_RESOURCES_FILE), so help is one glance away whatever page is open."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from httpx import AsyncClient
from litestar.testing import AsyncTestClient

from booking.core.settings import Settings
from booking.web.app import create_app
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.pages.conftest import HTML, book_query
from tests.integration.practice import Practice

LINE = "Harbour Night Line"
CONTACT = "Call 555-0142, any hour"


async def test_every_page_shows_the_configured_crisis_lines(
    database: Database, clock: FixedClock, practice: Practice, tmp_path: Path
) -> None:
    support = tmp_path / "support.json"
    support.write_text(
        json.dumps({"message": "We are here.", "resources": [{"name": LINE, "contact": CONTACT}]})
    )
    settings = dataclasses.replace(Settings.from_env(), support_file=str(support))
    app = create_app(settings, database.engine, clock)

    async with AsyncTestClient(app, base_url="http://testserver.local") as client:
        pages = {
            "/": await client.get("/", headers=HTML),
            "/times": await client.get("/times", headers=HTML),
            "/book": await client.get("/book", params=book_query(), headers=HTML),
            "a missing page": await client.get("/no-such-page", headers=HTML),
            "a gone link": await client.get("/manage/nobody", headers=HTML),
        }

    assert [r.status_code for r in pages.values()] == [200, 200, 200, 404, 404]
    for where, response in pages.items():
        footer = response.text[response.text.index('<footer class="site-footer">') :]
        assert "If you need someone to talk to now" in footer, where
        assert f"<strong>{LINE}</strong>: {CONTACT}" in footer, where
        # The practice's own lines replace the shipped ones.
        assert "9-8-8" not in footer, where


async def test_the_shipped_crisis_lines_are_the_default(client: AsyncClient) -> None:
    page = await client.get("/", headers=HTML)

    footer = page.text[page.text.index('<footer class="site-footer">') :]
    assert "<strong>Emergency services</strong>: Call 911 if you are in danger right now" in footer
    assert "Call or text 9-8-8" in footer
