"""Small steps the refund, webhook and reconciliation tests share: a paid booking, a charge
made at the emulator without the service hearing of it, events posted to the webhook, and
what the emulator and the database hold afterwards."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from booking.bookings.tables import Booking
from booking.notifications.tables import OutboxMessage
from booking.payments.money_tables import PaymentRefund, StripeEvent
from booking.payments.tables import Payment
from tests.integration.payments.conftest import Paying
from tests.integration.payments.stripe_events import WEBHOOK_PATH, event_body, signed
from tests.stripe_emulator import CARD_OK, SECRET_KEY, StripeEmulator
from tests.waiting import eventually

AUTH = {"Authorization": f"Bearer {SECRET_KEY}"}


async def paid_booking(paying: Paying, start: str | None = None) -> dict[str, Any]:
    """A booking of the paid type, paid with the test card and confirmed."""
    held = await (paying.hold(start) if start else paying.hold())
    page = await paying.payment_page(held)
    saved = await paying.save_card(page, CARD_OK)
    paid = await paying.pay(held, saved["id"])
    assert paid.status_code == 200, paid.text
    assert paid.json()["booking"]["status"] == "confirmed"
    return held


async def charge_unseen(paying: Paying, held: dict[str, Any]) -> dict[str, Any]:
    """The deposit charged at the emulator as the service would charge it, but the service
    never hears the answer (it stopped between Stripe's success and its own commit)."""
    page = await paying.payment_page(held)
    saved = await paying.save_card(page, CARD_OK)
    amount = page["amount"]
    return await asyncio.to_thread(
        create_intent,
        paying.emulator,
        amount["amount"],
        amount["currency"],
        saved["payment_method"],
        held["reference"],
    )


def create_intent(
    emulator: StripeEmulator, amount: int, currency: str, payment_method: str, reference: str
) -> dict[str, Any]:
    answer = httpx.post(
        f"{emulator.api_base}/v1/payment_intents",
        data={
            "amount": str(amount),
            "currency": currency,
            "payment_method": payment_method,
            "confirm": "true",
            "off_session": "true",
            "metadata[reference]": reference,
        },
        headers=AUTH,
        timeout=10,
    )
    answer.raise_for_status()
    intent = dict(answer.json())
    assert intent["status"] == "succeeded", intent
    return intent


def refunds_at_stripe(emulator: StripeEmulator, intent_id: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{emulator.api_base}/v1/refunds",
        params={"payment_intent": intent_id, "limit": "100"},
        headers=AUTH,
        timeout=10,
    )
    answer.raise_for_status()
    return list(answer.json()["data"])


def refund_at_stripe(emulator: StripeEmulator, intent_id: str, amount: int) -> str:
    """A refund made at the emulator directly (an attempt whose answer was lost)."""
    answer = httpx.post(
        f"{emulator.api_base}/v1/refunds",
        data={"payment_intent": intent_id, "amount": str(amount)},
        headers=AUTH,
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


async def post_event(
    paying: Paying, event_type: str, intent_id: str, event_id: str | None = None, **sign: Any
) -> Any:
    body = event_body(event_type, intent_id, event_id)
    return await paying.client.post(WEBHOOK_PATH, content=body, headers=signed(body, **sign))


async def booking_status(reference: str) -> str:
    row = await Booking.select(Booking.status).where(Booking.reference == reference).first()
    assert row is not None
    return str(row["status"])


async def payment_row(reference: str) -> dict[str, Any]:
    row = (
        await Payment.select()
        .where(
            Payment.booking.is_in(
                Booking.select(Booking._meta.primary_key).where(Booking.reference == reference)
            )
        )
        .first()
    )
    assert row is not None
    return dict(row)


async def refund_rows(reference: str) -> list[dict[str, Any]]:
    return list(
        await PaymentRefund.select().where(
            PaymentRefund.booking.is_in(
                Booking.select(Booking._meta.primary_key).where(Booking.reference == reference)
            )
        )
    )


async def refunded(reference: str) -> list[dict[str, Any]]:
    """Once every decided refund of the booking is made: its rows."""

    async def done() -> list[dict[str, Any]]:
        rows = await refund_rows(reference)
        return rows if rows and all(r["stripe_refund_id"] for r in rows) else []

    return await eventually(done)


async def events_recorded() -> int:
    return int(await StripeEvent.count())


async def outbox_rows(reference: str, kind: str) -> list[dict[str, Any]]:
    return list(
        await OutboxMessage.select().where(
            (OutboxMessage.kind == kind)
            & OutboxMessage.booking.is_in(
                Booking.select(Booking._meta.primary_key).where(Booking.reference == reference)
            )
        )
    )
