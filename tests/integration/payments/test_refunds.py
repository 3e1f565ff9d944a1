"""Cancelling a paid booking: inside the type's refund window the deposit comes back once,
through the outbox; outside it the deposit is kept. The manage API and page say which before
the couple confirm, the cancel answer says what happened, and so do the emails."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.factories import booking_request
from tests.integration.conftest import FixedClock
from tests.integration.payments.conftest import Paying
from tests.integration.payments.money import (
    outbox_rows,
    paid_booking,
    payment_row,
    refunded,
    refunds_at_stripe,
)
from tests.integration.practice import AT_10, Practice, manage_token
from tests.mailserver import Received
from tests.waiting import eventually

DEPOSIT = {"amount": 5000, "currency": "cad"}
# The consultation is Monday 7 December, 10:00 in Toronto; the refund window is 48 hours.
INSIDE_THE_WINDOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
PAST_THE_DEADLINE = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def api(held: dict[str, Any]) -> str:
    return f"/api/v1/bookings/{manage_token(held['manage_url'])}"


def plain(received: Received) -> str:
    body = received.message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def cancellations(received: list[Received]) -> list[Received]:
    return [r for r in received if "Cancelled" in str(r.message["Subject"])]


async def test_cancelling_inside_the_window_refunds_the_deposit_once(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    # Given a paid booking, three days before its window closes
    held = await paid_booking(paying)
    await paying.wait_for(2)  # the invitations
    clock.now = INSIDE_THE_WINDOW

    # The API and the page say before cancelling that the deposit comes back
    view = (await paying.client.get(api(held))).json()
    assert view["refund_on_cancel"] == DEPOSIT
    page = await paying.client.get(f"/manage/{manage_token(held['manage_url'])}")
    assert "Your deposit of $50.00 CAD will be refunded in full" in page.text

    # When they cancel (and, by a double click, cancel again)
    answer = await paying.client.post(f"{api(held)}/cancel", json={})
    again = await paying.client.post(f"{api(held)}/cancel", json={})

    # Then the answer names the refund, and Stripe makes exactly one
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "cancelled", "refund": DEPOSIT}
    assert again.json() == {"status": "cancelled", "refund": DEPOSIT}
    (row,) = await refunded(held["reference"])
    intent = (await payment_row(held["reference"]))["payment_intent_id"]
    at_stripe = refunds_at_stripe(paying.emulator, intent)
    assert [(r["id"], r["amount"]) for r in at_stripe] == [(row["stripe_refund_id"], 5000)]
    assert len(await outbox_rows(held["reference"], "refund")) == 1

    # And the booking shows the deposit refunded
    async def shown_refunded() -> dict[str, Any]:
        payment = dict((await paying.client.get(api(held))).json()["payment"])
        return payment if payment["status"] == "refunded" else {}

    assert (await eventually(shown_refunded))["refunded"] == DEPOSIT
    page = await paying.client.get(f"/manage/{manage_token(held['manage_url'])}")
    assert "Your deposit of $50.00 CAD has been refunded" in page.text

    # And both partners' cancellation emails say the money comes back
    mails = cancellations(await paying.wait_for(4))
    assert len(mails) == 2
    for mail in mails:
        assert "Your deposit of $50.00 CAD is being refunded in full" in plain(mail)


async def test_cancelling_past_the_deadline_keeps_the_deposit(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    # Given a paid booking less than 48 hours before it starts
    held = await paid_booking(paying)
    await paying.wait_for(2)
    clock.now = PAST_THE_DEADLINE

    # The API and the page say before cancelling that the deposit is kept
    view = (await paying.client.get(api(held))).json()
    assert view["can_cancel"] is True
    assert view["refund_on_cancel"] is None
    page = await paying.client.get(f"/manage/{manage_token(held['manage_url'])}")
    assert "the deposit of $50.00 CAD is kept if you cancel" in page.text

    # When they cancel
    answer = await paying.client.post(f"{api(held)}/cancel", json={})

    # Then nothing is refunded, and the emails say why
    assert answer.json() == {"status": "cancelled", "refund": None}
    mails = cancellations(await paying.wait_for(4))
    assert len(mails) == 2
    for mail in mails:
        text = " ".join(plain(mail).split())
        assert "after the refund deadline (Saturday 5 December 2026, 10:00 a.m.)" in text
        assert "the deposit of $50.00 CAD is kept" in text
    assert await outbox_rows(held["reference"], "refund") == []
    intent = (await payment_row(held["reference"]))["payment_intent_id"]
    assert refunds_at_stripe(paying.emulator, intent) == []
    assert (await payment_row(held["reference"]))["status"] == "succeeded"


async def test_a_free_booking_says_nothing_of_money(paying: Paying, practice: Practice) -> None:
    created = await paying.client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert created.status_code == 201, created.text
    held = created.json()
    await paying.wait_for(2)  # the invitations, before a cancellation makes them obsolete

    view = (await paying.client.get(api(held))).json()
    answer = await paying.client.post(f"{api(held)}/cancel", json={})

    assert view["refund_on_cancel"] is None
    assert answer.json() == {"status": "cancelled", "refund": None}
    for mail in cancellations(await paying.wait_for(4)):
        assert "deposit" not in plain(mail)
