"""Nobody takes the whole calendar: bookings per email, holds and bookings per client address.

Each test sets the limits it is about low (the suite's environment sets them out of the way)
and books through the API from client addresses it chooses.
"""

from __future__ import annotations

import asyncio
import html
import os
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from booking.bookings.tables import Booking
from booking.core.clients import address_digest
from booking.core.settings import Settings
from booking.web.app import create_app
from tests.factories import booking_request, make_therapist
from tests.fixtures.databases import Database
from tests.integration.bookings.conftest import InFlight
from tests.integration.conftest import FixedClock
from tests.integration.pages.conftest import HTML, booking_form
from tests.integration.practice import AT_9, AT_10, AT_11, Practice

HOME = "198.51.100.7"
ELSEWHERE = "203.0.113.20"
NEXT_MONDAY_AT_9 = "2026-12-14T09:00:00-05:00"
EMAIL_LIMIT = (
    "You already have {n} upcoming consultations booked with one of these email addresses. "
    "Please cancel one from its confirmation email, or contact the practice."
)
# Limits out of the way unless a test names them.
OFF = {
    "BOOKING_LIMIT_PER_EMAIL": "1000",
    "HOLD_LIMIT_PER_ADDRESS": "1000",
    "BOOKING_LIMIT_PER_ADDRESS_PER_DAY": "1000",
}


@dataclass
class Service:
    settings: Settings
    in_flight: InFlight
    stack: AsyncExitStack

    async def client(self, address: str = HOME) -> httpx.AsyncClient:
        """A client whose requests come from `address` (the app's own view of the peer)."""
        transport = httpx.ASGITransport(app=self.in_flight, client=(address, 50123))
        return await self.stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://testserver.local")
        )


@asynccontextmanager
async def service(database: Database, clock: FixedClock, **limits: str) -> AsyncIterator[Service]:
    """The app with `limits` on top of the environment, its requests run on the test's loop
    (so concurrent ones truly interleave)."""
    settings = Settings.from_env({**os.environ, **OFF, **limits})
    app = create_app(settings, database.engine, clock)
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.lifespan())
        yield Service(settings, InFlight(app), stack)


def couple(booker: str, partner: str, start: str = AT_10, **fields: Any) -> dict[str, Any]:
    body = booking_request(start, **fields)
    body["partners"][0]["email"] = booker
    body["partners"][1]["email"] = partner
    return body


def assert_limited(response: httpx.Response, message: str | None = None) -> None:
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "booking_limit"
    if message is not None:
        assert error["message"] == message
    # Never which email, or whose.
    assert "@" not in response.text


async def test_an_email_in_two_upcoming_bookings_cannot_book_a_third(
    database: Database, clock: FixedClock, practice: Practice
) -> None:
    async with service(database, clock, BOOKING_LIMIT_PER_EMAIL="2") as app:
        api = await app.client()
        first = await api.post("/api/v1/bookings", json=booking_request(AT_9))
        second = await api.post("/api/v1/bookings", json=booking_request(AT_10))
        third = await api.post("/api/v1/bookings", json=booking_request(AT_11))

    assert (first.status_code, second.status_code) == (201, 201)
    assert_limited(third, EMAIL_LIMIT.format(n=2))
    assert await Booking.count() == 2


async def test_a_partner_email_counts_as_either_partner_whatever_its_case(
    database: Database, clock: FixedClock, practice: Practice
) -> None:
    async with service(database, clock, BOOKING_LIMIT_PER_EMAIL="1") as app:
        api = await app.client()
        first = await api.post("/api/v1/bookings", json=couple("robin@example.org", "sam@ex.org"))
        # Sam again, now as the one who books, and written otherwise.
        again = await api.post(
            "/api/v1/bookings", json=couple("Sam@EX.org", "alex@example.org", AT_11)
        )
        others = await api.post(
            "/api/v1/bookings", json=couple("kim@example.org", "lee@example.org", AT_11)
        )

    assert first.status_code == 201
    assert_limited(again, EMAIL_LIMIT.format(n=1))
    assert others.status_code == 201


async def test_cancelled_and_started_bookings_do_not_count(
    database: Database, clock: FixedClock, practice: Practice
) -> None:
    async with service(database, clock, BOOKING_LIMIT_PER_EMAIL="1") as app:
        api = await app.client()
        first = await api.post("/api/v1/bookings", json=booking_request(AT_9))
        token = first.json()["manage_url"].rsplit("/", 1)[1]
        assert (await api.post(f"/api/v1/bookings/{token}/cancel")).status_code == 200
        after_cancelling = await api.post("/api/v1/bookings", json=booking_request(AT_10))
        refused = await api.post("/api/v1/bookings", json=booking_request(AT_11))
        clock.now = clock.now.replace(day=7, hour=15, minute=30)  # Monday 10:30 in Toronto
        once_it_started = await api.post("/api/v1/bookings", json=booking_request(NEXT_MONDAY_AT_9))

    assert after_cancelling.status_code == 201
    assert_limited(refused)
    assert once_it_started.status_code == 201, once_it_started.text


async def test_unpaid_holds_are_limited_per_client_address(
    database: Database, clock: FixedClock, practice: Practice
) -> None:
    async with service(database, clock, HOLD_LIMIT_PER_ADDRESS="2") as app:
        home, elsewhere = await app.client(HOME), await app.client(ELSEWHERE)
        holds = [
            await home.post(
                "/api/v1/bookings",
                json=couple(f"a{n}@example.org", f"b{n}@example.org", start, kind="paid"),
            )
            for n, start in enumerate((AT_9, AT_10, AT_11))
        ]
        free_call = await home.post("/api/v1/bookings", json=booking_request(NEXT_MONDAY_AT_9))
        other_address = await elsewhere.post(
            "/api/v1/bookings", json=booking_request(AT_11, kind="paid")
        )
        clock.now += timedelta(minutes=16)  # the two holds expire unpaid
        after_expiry = await home.post(
            "/api/v1/bookings",
            json=couple("c@example.org", "d@example.org", "2026-12-14T11:00:00-05:00", kind="paid"),
        )

    assert [h.status_code for h in holds[:2]] == [201, 201]
    assert {h.json()["status"] for h in holds[:2]} == {"pending_payment"}
    assert_limited(
        holds[2],
        "2 consultations are already held for payment from your connection. Please wait until "
        "one is paid or has expired, or contact the practice.",
    )
    assert free_call.status_code == 201
    assert other_address.status_code == 201
    assert after_expiry.status_code == 201, after_expiry.text


async def test_bookings_per_client_address_are_limited_per_day(
    database: Database, clock: FixedClock, practice: Practice
) -> None:
    async with service(database, clock, BOOKING_LIMIT_PER_ADDRESS_PER_DAY="2") as app:
        home, elsewhere = await app.client(HOME), await app.client(ELSEWHERE)
        first = await home.post("/api/v1/bookings", json=couple("a@ex.org", "b@ex.org", AT_9))
        token = first.json()["manage_url"].rsplit("/", 1)[1]
        assert (await home.post(f"/api/v1/bookings/{token}/cancel")).status_code == 200
        second = await home.post("/api/v1/bookings", json=couple("c@ex.org", "d@ex.org", AT_10))
        third = await home.post("/api/v1/bookings", json=couple("e@ex.org", "f@ex.org", AT_11))
        other_address = await elsewhere.post("/api/v1/bookings", json=booking_request(AT_11))
        clock.now += timedelta(days=1, minutes=1)
        next_day = await home.post("/api/v1/bookings", json=couple("e@ex.org", "f@ex.org", AT_9))

    assert second.status_code == 201
    # The cancelled booking still counts: booking and cancelling is not a way around it.
    assert_limited(
        third,
        "We take at most 2 bookings a day from one connection. Please try again tomorrow, or "
        "contact the practice.",
    )
    assert other_address.status_code == 201
    assert next_day.status_code == 201, next_day.text


async def test_a_booking_keeps_a_keyed_digest_of_its_address_not_the_address(
    database: Database, clock: FixedClock, practice: Practice
) -> None:
    async with service(database, clock) as app:
        api = await app.client(HOME)
        assert (await api.post("/api/v1/bookings", json=booking_request(AT_10))).status_code == 201
        secret = app.settings.secret_key

    (row,) = await Booking.select()
    assert row["client_digest"] == address_digest(secret, HOME)
    assert HOME not in repr(row)


async def test_the_booking_page_shows_a_reached_limit_above_the_form(
    database: Database, clock: FixedClock, practice: Practice
) -> None:
    async with service(database, clock, BOOKING_LIMIT_PER_EMAIL="1") as app:
        browser = await app.client()
        booked = await browser.post("/book", data=booking_form(AT_9, key="k1"), headers=HTML)
        assert booked.status_code == 303
        page = await browser.post("/book", data=booking_form(AT_11, key="k2"), headers=HTML)

    assert page.status_code == 409
    text = html.unescape(page.text)
    assert 'class="error-summary"' in page.text
    assert EMAIL_LIMIT.format(n=1) in text
    assert 'value="Robin Park"' in page.text  # what they typed is still there
    assert await Booking.count() == 1


async def post_together(app: Service, bodies: list[dict[str, Any]]) -> Counter[str]:
    api = await app.client()
    responses = await asyncio.gather(*(api.post("/api/v1/bookings", json=b) for b in bodies))
    assert app.in_flight.most > 1  # the requests really overlapped in the app
    outcomes: Counter[str] = Counter()
    for response in responses:
        assert response.status_code in (201, 409), response.text
        created = response.status_code == 201
        outcomes["201" if created else response.json()["error"]["code"]] += 1
    return outcomes


async def two_more_therapists(practice: Practice) -> list[str]:
    for slug in ("bo", "cy"):
        await make_therapist(
            slug, types=(practice.type_id,), hours=((0, "09:00", "12:00"),), modes=["video"]
        )
    return ["ana", "bo", "cy"]


async def test_concurrent_bookings_with_one_email_make_exactly_the_limit(
    database: Database, clock: FixedClock, practice: Practice
) -> None:
    therapists = await two_more_therapists(practice)
    # Nine different free times with three therapists: only the email limit can refuse.
    bodies = [
        booking_request(start, therapist=therapist)
        for therapist in therapists
        for start in (AT_9, AT_10, AT_11)
    ]
    async with service(database, clock, BOOKING_LIMIT_PER_EMAIL="2") as app:
        outcomes = await post_together(app, bodies)

    assert outcomes == {"201": 2, "booking_limit": 7}
    assert await Booking.count() == 2


async def test_concurrent_bookings_from_one_address_make_exactly_the_daily_limit(
    database: Database, clock: FixedClock, practice: Practice
) -> None:
    therapists = await two_more_therapists(practice)
    bodies = [
        couple(f"a{n}@example.org", f"b{n}@example.org", start, therapist=therapist)
        for n, (therapist, start) in enumerate(
            (t, s) for t in therapists for s in (AT_9, AT_10, AT_11)
        )
    ]
    async with service(database, clock, BOOKING_LIMIT_PER_ADDRESS_PER_DAY="3") as app:
        outcomes = await post_together(app, bodies)

    assert outcomes == {"201": 3, "booking_limit": 6}
    assert await Booking.count() == 3
