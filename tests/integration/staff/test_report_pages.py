"""The reports page over HTTP, as an admin reads it: this month by default, each chart an
image the Content-Security-Policy allows (SVG without script) beside its numbers in a table,
a bad range named with the values kept, and a therapist given the 404 of a page that does not
exist."""

from __future__ import annotations

import base64
import re
from typing import Any
from xml.etree import ElementTree

from litestar.testing import AsyncTestClient

from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_9, AT_10, Practice, manage_token
from tests.integration.staff.conftest import book
from tests.staff_support import create_staff, sign_in

HTML = {"accept": "text/html"}
CHART = re.compile(r'<img class="chart" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


async def as_admin(client: AsyncTestClient[Any], clock: FixedClock) -> None:
    from booking.staff.principal import Role

    admin = await create_staff(Role.ADMIN)
    assert (await sign_in(client, admin, at=clock.now)).status_code == 303


def rows_of(page: str, title: str) -> list[list[str]]:
    """The body rows of the table captioned `title`, as text cells."""
    table = page.split(f"<caption>{title}</caption>", 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


async def test_this_month_by_default_with_each_chart_beside_its_numbers(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    await book(client, AT_9)
    cancelled = await book(client, AT_10, therapist="ana")
    token = manage_token(cancelled["manage_url"])
    assert (await client.post(f"/api/v1/bookings/{token}/cancel", json={})).status_code == 200
    await as_admin(client, clock)

    page = await client.get("/staff/reports", headers=HTML)

    assert page.status_code == 200, page.text
    assert 'value="2026-12-01"' in page.text
    assert 'value="2026-12-31"' in page.text
    assert "2 bookings" in page.text
    week = rows_of(page.text, "Cancellations and no-shows")
    assert ["week of 2026-12-07", "1", "0"] in week
    per_week = rows_of(page.text, "Bookings per week by status")
    assert any(row[0] == "week of 2026-12-07" and row[-1] == "2" for row in per_week)
    charts = CHART.findall(page.text)
    assert len(charts) == 4
    for chart in charts:
        svg = base64.b64decode(chart).decode()
        assert "<script" not in svg
        ElementTree.fromstring(svg)  # a whole SVG document
    assert "<script>" not in page.text  # no inline script on the page itself
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "img-src 'self' data:" in page.headers["content-security-policy"]


async def test_a_range_that_ends_before_it_starts_is_named_with_the_dates_kept(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    await as_admin(client, clock)

    backwards = await client.get(
        "/staff/reports", params={"from": "2026-12-20", "to": "2026-12-01"}, headers=HTML
    )
    unreadable = await client.get(
        "/staff/reports", params={"from": "20 December", "to": "2026-12-31"}, headers=HTML
    )
    too_long = await client.get(
        "/staff/reports", params={"from": "2025-01-01", "to": "2026-12-31"}, headers=HTML
    )

    assert backwards.status_code == 422
    assert "To: The last date is before the first." in backwards.text
    assert 'value="2026-12-20"' in backwards.text
    assert 'value="2026-12-01"' in backwards.text
    assert 'class="chart"' not in backwards.text
    assert unreadable.status_code == 422
    assert "From: Give a date such as 2026-12-01." in unreadable.text
    assert 'value="20 December"' in unreadable.text
    assert too_long.status_code == 422
    assert "A range spans at most 366 days." in too_long.text


async def test_a_chosen_range_counts_only_its_consultations(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    await book(client, AT_10)
    await as_admin(client, clock)

    page = await client.get(
        "/staff/reports", params={"from": "2026-12-08", "to": "2026-12-31"}, headers=HTML
    )

    assert page.status_code == 200
    assert "0 bookings" in page.text


async def test_a_therapist_gets_404_for_the_reports(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    therapist = await create_staff(therapist="ana")
    await sign_in(client, therapist, at=clock.now)

    page = await client.get("/staff/reports", headers=HTML)
    ranged = await client.get("/staff/reports?from=2026-12-01&to=2026-12-31", headers=HTML)

    assert page.status_code == 404
    assert ranged.status_code == 404
    assert "Reports" not in page.text.split("<main", 1)[1]
