"""Stripe's webhook: signed events only, the intent re-read from Stripe, each event's effect
once, nothing backwards; the emulator's own signed events as well as hand-signed ones."""

from __future__ import annotations

import asyncio
import time

from tests.integration.payments.conftest import Paying
from tests.integration.payments.money import (
    booking_status,
    charge_unseen,
    events_recorded,
    paid_booking,
    payment_row,
    post_event,
)
from tests.integration.payments.stripe_events import (
    WEBHOOK_PATH,
    event_body,
    signed,
    start_receiver,
)
from tests.integration.practice import Practice


async def test_a_missed_success_is_confirmed_by_its_event_once(
    paying: Paying, practice: Practice
) -> None:
    # Given a deposit Stripe took while the service never heard the answer
    held = await paying.hold()
    intent = await charge_unseen(paying, held)
    assert await booking_status(held["reference"]) == "pending_payment"

    # When Stripe's event arrives
    answer = await post_event(paying, "payment_intent.succeeded", intent["id"], "evt_once_1")

    # Then the booking is confirmed and both partners invited
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": True, "effect": "confirmed"}
    assert await booking_status(held["reference"]) == "confirmed"
    payment = await payment_row(held["reference"])
    assert payment["status"] == "succeeded"
    assert payment["payment_intent_id"] == intent["id"]
    invitations = await paying.wait_for(2)

    # And the same event again (Stripe retries) does nothing more
    again = await post_event(paying, "payment_intent.succeeded", intent["id"], "evt_once_1")
    assert again.status_code == 200
    assert again.json()["effect"] == "replayed"
    # A different event about the same success changes nothing either
    other = await post_event(paying, "payment_intent.succeeded", intent["id"], "evt_once_2")
    assert other.json()["effect"] == "no_change"
    assert await events_recorded() == 2
    assert len(await paying.wait_for(2)) == len(invitations) == 2


async def test_a_forged_signature_is_refused_and_does_nothing(
    paying: Paying, practice: Practice
) -> None:
    held = await paying.hold()
    intent = await charge_unseen(paying, held)
    body = event_body("payment_intent.succeeded", intent["id"])

    forged = await paying.client.post(
        WEBHOOK_PATH, content=body, headers=signed(body, secret="whsec_not_the_endpoints")
    )
    unsigned = await paying.client.post(
        WEBHOOK_PATH, content=body, headers={"Content-Type": "application/json"}
    )
    tampered = await paying.client.post(
        WEBHOOK_PATH, content=body.replace(b"succeeded", b"succeeded "), headers=signed(body)
    )

    for refused in (forged, unsigned, tampered):
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["code"] == "bad_signature"
    assert await booking_status(held["reference"]) == "pending_payment"
    assert await events_recorded() == 0


async def test_a_stale_timestamp_is_refused(paying: Paying, practice: Practice) -> None:
    held = await paying.hold()
    intent = await charge_unseen(paying, held)

    stale = await post_event(
        paying, "payment_intent.succeeded", intent["id"], at=int(time.time()) - 600
    )

    assert stale.status_code == 400
    assert stale.json()["error"]["code"] == "bad_signature"
    assert await booking_status(held["reference"]) == "pending_payment"


async def test_an_event_out_of_order_changes_nothing_backwards(
    paying: Paying, practice: Practice
) -> None:
    # Given a paid, confirmed booking
    held = await paid_booking(paying)
    payment = await payment_row(held["reference"])

    # When a failure event for its intent arrives late (the intent itself succeeded)
    late = await post_event(paying, "payment_intent.payment_failed", payment["payment_intent_id"])

    # Then the intent as Stripe has it now decides: nothing changes
    assert late.status_code == 200
    assert late.json()["effect"] == "no_change"
    assert (await payment_row(held["reference"]))["status"] == "succeeded"
    assert await booking_status(held["reference"]) == "confirmed"


async def test_events_it_does_not_handle_get_200(paying: Paying, practice: Practice) -> None:
    answer = await post_event(paying, "customer.created", "cus_123")

    assert answer.status_code == 200
    assert answer.json() == {"received": True, "effect": "ignored"}
    assert await events_recorded() == 0


async def test_an_intent_stripe_does_not_have_does_nothing(
    paying: Paying, practice: Practice
) -> None:
    answer = await post_event(paying, "payment_intent.canceled", "pi_unknown_to_stripe_too")

    # Stripe does not know it either: answered, nothing done, nothing for Stripe to retry.
    assert answer.status_code == 200
    assert answer.json()["effect"] == "unknown_intent"


async def test_the_emulators_own_signed_event_confirms_the_booking(
    paying: Paying, practice: Practice
) -> None:
    # Given the emulator posting its payment events to a receiver
    receiver = await asyncio.to_thread(start_receiver, paying.emulator)
    try:
        held = await paying.hold()
        intent = await charge_unseen(paying, held)

        # When its signed payment_intent.succeeded reaches the webhook as it was sent
        caught = await asyncio.to_thread(
            receiver.wait_for, "payment_intent.succeeded", intent["id"]
        )
        answer = await paying.client.post(
            WEBHOOK_PATH,
            content=caught.body,
            headers={
                "Stripe-Signature": caught.headers["Stripe-Signature"],
                "Content-Type": "application/json",
            },
        )
    finally:
        await asyncio.to_thread(receiver.stop)

    # Then its signature holds and the booking is confirmed
    assert answer.status_code == 200, answer.text
    assert answer.json()["effect"] == "confirmed"
    assert await booking_status(held["reference"]) == "confirmed"
