"""A payment that lands after its hold ended: refunded in full, the booker told, the time kept
by whoever booked it meanwhile; and a lapsed hold's open PaymentIntent cancelled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from booking.bookings.tables import Booking
from booking.payments.assembly import payment_parts
from tests.factories import booking_request
from tests.integration.conftest import FixedClock
from tests.integration.payments.conftest import Paying
from tests.integration.payments.money import (
    booking_status,
    outbox_rows,
    payment_row,
    post_event,
    refunded,
    refunds_at_stripe,
)
from tests.integration.payments.test_refunds import plain
from tests.integration.practice import AT_10, Practice
from tests.stripe_emulator import CARD_3DS
from tests.waiting import eventually

OTHER_COUPLE = [
    {"name": "Alex Moreau", "email": "alex@example.org"},
    {"name": "Jo Moreau", "email": "jo@example.org"},
]


async def test_a_payment_after_the_slot_went_elsewhere_is_refunded_and_told(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    # Given a hold whose charge waits for its 3-D Secure step
    held = await paying.hold()
    page = await paying.payment_page(held)
    saved = await paying.save_card(page, CARD_3DS)
    first = (await paying.pay(held, saved["id"])).json()
    assert first["status"] == "requires_action"

    # And the hold ends, and another couple books the same time
    clock.now += timedelta(minutes=20)
    other = await paying.client.post(
        "/api/v1/bookings", json=booking_request(AT_10, partners=OTHER_COUPLE)
    )
    assert other.status_code == 201, other.text
    assert other.json()["status"] == "confirmed"

    # When the first couple finish the 3-D Secure step after all, and Stripe says so
    await asyncio.to_thread(paying.emulator.authenticate_payment, first["client_secret"])
    intent = (await payment_row(held["reference"]))["payment_intent_id"]
    answer = await post_event(paying, "payment_intent.succeeded", intent)

    # Then their money goes back in full, once, and the new owners keep the time
    assert answer.json()["effect"] == "late_payment"
    (row,) = await refunded(held["reference"])
    assert [r["amount"] for r in refunds_at_stripe(paying.emulator, intent)] == [5000]
    assert row["cause"] == "late"
    assert await booking_status(held["reference"]) == "expired"
    assert await booking_status(other.json()["reference"]) == "confirmed"
    live = await Booking.count().where(
        (Booking.therapist == practice.therapist_id) & (Booking.status == "confirmed")
    )
    assert live == 1

    # And the booker alone is told, in plain words, with the amount
    async def refund_mail() -> list[str]:
        mails = await asyncio.to_thread(paying.smtp.wait_for, 3, 0.2)
        return [plain(m) for m in mails if m.recipients == ["robin@example.org"]]

    (text,) = await eventually(refund_mail)
    text = " ".join(text.split())
    assert "arrived after the time we were holding for you had been released" in text
    assert "The full amount, $50.00 CAD, is being refunded" in text
    assert (await payment_row(held["reference"]))["status"] == "refunded"

    # And the same event again refunds nothing more
    again = await post_event(paying, "payment_intent.succeeded", intent)
    assert again.json()["effect"] == "no_change"
    assert len(refunds_at_stripe(paying.emulator, intent)) == 1


async def test_a_lapsed_holds_open_payment_is_cancelled(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    # Given a hold whose charge waits for a 3-D Secure step nobody finishes
    held = await paying.hold()
    page = await paying.payment_page(held)
    saved = await paying.save_card(page, CARD_3DS)
    first = (await paying.pay(held, saved["id"])).json()
    assert first["status"] == "requires_action"

    # When the hold ends and the worker's periodic pass runs
    clock.now += timedelta(minutes=20)
    parts = payment_parts(paying.settings, clock)
    assert parts.reconciler is not None
    found = await parts.reconciler.lapsed_holds()

    # Then the intent is cancelled through the outbox, and the payment says so
    assert found == [f"{held['reference']}: hold ended unpaid, its payment cancelled"]

    async def cancelled() -> bool:
        return bool((await payment_row(held["reference"]))["status"] == "cancelled")

    await eventually(cancelled)
    intent = (await payment_row(held["reference"]))["payment_intent_id"]
    (intent_at_stripe,) = [
        i for i in paying.emulator.payment_intents(held["reference"]) if i["id"] == intent
    ]
    assert intent_at_stripe["status"] == "canceled"
    (job,) = await outbox_rows(held["reference"], "cancel_payment")
    assert job["status"] == "sent"
    # A second pass queues nothing more
    assert await parts.reconciler.lapsed_holds() == []
