"""The manage page's calendar file and the therapist's private feed."""

from __future__ import annotations

import re
from typing import Any

import icalendar
from httpx import AsyncClient
from ical.calendar_stream import IcsCalendarStream

from booking.core.settings import get_settings
from booking.notifications.feeds import FeedService
from booking.scheduling.tables import Therapist
from tests.factories import booking_request
from tests.integration.practice import AT_9, AT_10, Practice, manage_token


async def book(client: AsyncClient, start: str = AT_10) -> dict[str, Any]:
    response = await client.post("/api/v1/bookings", json=booking_request(start))
    assert response.status_code == 201
    return dict(response.json())


def only_event(ics: bytes) -> Any:
    IcsCalendarStream.calendar_from_ics(ics.decode())  # strictly valid
    calendar = icalendar.Calendar.from_ical(ics)
    (event,) = list(calendar.walk("VEVENT"))
    assert calendar["METHOD"] == "PUBLISH"
    return event


async def test_invite_ics_follows_the_booking_through_its_changes(
    client: AsyncClient, practice: Practice
) -> None:
    token = manage_token((await book(client))["manage_url"])

    first = await client.get(f"/api/v1/bookings/{token}/invite.ics")
    await client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": AT_9})
    moved = await client.get(f"/api/v1/bookings/{token}/invite.ics")
    await client.post(f"/api/v1/bookings/{token}/cancel")
    cancelled = await client.get(f"/api/v1/bookings/{token}/invite.ics")

    assert first.headers["content-type"].startswith("text/calendar")
    events = [only_event(r.content) for r in (first, moved, cancelled)]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert [str(e["STATUS"]) for e in events] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]
    assert events[1].decoded("DTSTART").hour == 14  # 09:00 in Toronto, in UTC


async def test_the_manage_page_offers_add_to_calendar(
    client: AsyncClient, practice: Practice
) -> None:
    token = manage_token((await book(client))["manage_url"])
    page = await client.get(f"/manage/{token}", headers={"Accept": "text/html"})
    assert f'href="/api/v1/bookings/{token}/invite.ics"' in page.text


async def test_the_feed_shows_confirmed_consultations_with_first_names_only(
    client: AsyncClient, practice: Practice
) -> None:
    await book(client, AT_9)
    cancelled = manage_token((await book(client, AT_10.replace("T10", "T11")))["manage_url"])
    await client.post(f"/api/v1/bookings/{cancelled}/cancel")
    url = await FeedService(get_settings()).url_for("ana")

    response = await client.get(url.removeprefix(get_settings().public_base_url))

    assert response.status_code == 200
    IcsCalendarStream.calendar_from_ics(response.text)
    calendar = icalendar.Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    assert "Robin & Sam" in str(events[0]["SUMMARY"])
    assert "Park" not in response.text
    assert "example.org" not in response.text
    assert "ATTENDEE" not in response.text


async def test_rotating_the_feed_retires_the_old_url(
    client: AsyncClient, practice: Practice
) -> None:
    service = FeedService(get_settings())
    old = (await service.url_for("ana")).removeprefix(get_settings().public_base_url)
    new = (await service.rotate("ana")).removeprefix(get_settings().public_base_url)

    assert (await client.get(old)).status_code == 404
    assert (await client.get(new)).status_code == 200
    assert await Therapist.select(Therapist.feed_generation).first() == {"feed_generation": 1}


async def test_the_feed_names_a_phone_consultation_without_the_number(
    client: AsyncClient, practice: Practice
) -> None:
    body = booking_request(AT_9, mode="phone")
    body["partners"][0]["phone"] = "+1 416-555-0188"
    assert (await client.post("/api/v1/bookings", json=body)).status_code == 201
    url = await FeedService(get_settings()).url_for("ana")

    response = await client.get(url.removeprefix(get_settings().public_base_url))

    (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert str(event["LOCATION"]) == "Phone call"
    # However the number is written or folded, its digits appear nowhere in the feed.
    assert "4165550188" not in re.sub(r"\D", "", response.text)
