"""One booking, at most one charge: concurrent and repeated pay requests, a paid booking moved,
a hold that ended, Stripe out of reach."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from litestar.testing import AsyncTestClient

from booking.bookings.tables import Booking
from booking.payments.tables import Payment
from booking.web.app import create_app
from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.payments.conftest import (
    ConcurrentPaying,
    Paying,
    paying_settings,
    payment_path,
)
from tests.integration.practice import AT_9, AT_11, Practice, manage_token
from tests.mailserver import MailServer
from tests.stripe_emulator import CARD_OK, start_emulator, stop_emulator


async def booking_status(reference: str) -> str:
    row = await Booking.select(Booking.status).where(Booking.reference == reference).first()
    assert row is not None
    return str(row["status"])


async def test_two_simultaneous_pay_requests_charge_once(
    concurrent_paying: ConcurrentPaying, practice: Practice
) -> None:
    http, emulator = concurrent_paying.http, concurrent_paying.emulator
    held = (await http.post("/api/v1/bookings", json=booking_request(AT_9, kind="paid"))).json()
    page = (await http.get(payment_path(held))).json()
    saved = await asyncio.to_thread(emulator.save_card, page["setup_client_secret"], CARD_OK)

    answers = await asyncio.gather(
        *(http.post(payment_path(held), json={"setup_intent": saved["id"]}) for _ in range(2))
    )
    assert concurrent_paying.in_flight.most > 1  # the two really overlapped
    outcomes = sorted(
        a.json()["status"] if a.status_code == 200 else a.json()["error"]["code"] for a in answers
    )
    assert outcomes in (["already_paid", "succeeded"], ["succeeded", "succeeded"]), outcomes
    assert len(emulator.payment_intents(held["reference"])) == 1
    assert len(emulator.charges(held["reference"])) == 1
    assert await booking_status(held["reference"]) == "confirmed"


async def test_a_second_click_after_paying_charges_nothing(
    paying: Paying, practice: Practice
) -> None:
    held = await paying.hold()
    saved = await paying.save_card(await paying.payment_page(held), CARD_OK)
    first = await paying.pay(held, saved["id"])
    again = await paying.pay(held, saved["id"])
    assert first.json()["status"] == "succeeded"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_paid"
    assert len(paying.emulator.payment_intents(held["reference"])) == 1


async def test_moving_a_paid_booking_asks_for_nothing_more(
    paying: Paying, practice: Practice
) -> None:
    held = await paying.hold()
    saved = await paying.save_card(await paying.payment_page(held), CARD_OK)
    assert (await paying.pay(held, saved["id"])).json()["status"] == "succeeded"
    token = manage_token(held["manage_url"])

    moved = await paying.client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": AT_11})
    assert moved.status_code == 200, moved.text
    view = moved.json()
    assert view["status"] == "confirmed"
    assert view["payment"]["status"] == "succeeded"
    assert view["payment"]["amount"] == {"amount": 5000, "currency": "cad"}
    assert len(paying.emulator.payment_intents(held["reference"])) == 1
    # The payment page has nothing more to take: it leads back to the booking.
    page = await paying.client.get(f"/manage/{token}/pay", headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == f"/manage/{token}"
    assert (await paying.pay(held, saved["id"])).json()["error"]["code"] == "already_paid"


async def test_a_hold_that_ended_is_not_charged(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    held = await paying.hold()
    saved = await paying.save_card(await paying.payment_page(held), CARD_OK)
    clock.now += timedelta(minutes=16)
    late = await paying.pay(held, saved["id"])
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "too_late"
    assert "nothing was charged" in late.json()["error"]["message"]
    assert paying.emulator.payment_intents(held["reference"]) == []


async def test_another_bookings_card_form_is_refused(paying: Paying, practice: Practice) -> None:
    mine = await paying.hold(AT_9)
    theirs = await paying.hold(AT_11)
    await paying.payment_page(mine)
    their_page = await paying.payment_page(theirs)
    saved = await paying.save_card(their_page, CARD_OK)
    refused = await paying.pay(mine, saved["id"])
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "setup_intent"
    assert paying.emulator.payment_intents(mine["reference"]) == []


async def test_stripe_out_of_reach_keeps_the_hold_and_charges_nothing(
    database: Database, clock: FixedClock, smtp: MailServer, practice: Practice
) -> None:
    # An emulator of this test's own, stopped while the couple pays.
    own = start_emulator()
    app = create_app(paying_settings(own, smtp), database.engine, clock)
    async with AsyncTestClient(app, base_url="http://testserver.local") as client:
        paying = Paying(client, own, smtp, paying_settings(own, smtp))
        held = await paying.hold()
        page = await paying.payment_page(held)
        saved = await paying.save_card(page, CARD_OK)
        stop_emulator(own)

        answer = await paying.pay(held, saved["id"])
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "5"
        error = answer.json()["error"]
        assert error["code"] == "payments_unavailable"
        assert "nothing was charged" in error["message"]
        assert "still held" in error["message"]
        view = (await client.get(f"/api/v1/bookings/{manage_token(held['manage_url'])}")).json()
    assert view["status"] == "pending_payment"
    assert view["hold_expires_at"] == held["hold_expires_at"]
    assert await booking_status(held["reference"]) == "pending_payment"
    row = await Payment.select(Payment.status, Payment.payment_intent_id).first()
    assert row == {"status": "pending", "payment_intent_id": None}
