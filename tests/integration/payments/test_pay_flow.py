"""The whole deposit flow over HTTP: hold, the payment page's SetupIntent, the card saved as
Stripe.js saves it, the charge, the confirmation and the invitations."""

from __future__ import annotations

from booking.bookings.tables import Booking
from booking.notifications.tables import OutboxMessage
from tests.integration.payments.conftest import Paying
from tests.integration.practice import Practice
from tests.stripe_emulator import CARD_3DS, CARD_DECLINED_ON_CHARGE, CARD_OK


async def test_a_paid_hold_is_confirmed_and_invited(paying: Paying, practice: Practice) -> None:
    held = await paying.hold()
    assert held["status"] == "pending_payment"
    payment = held["payment"]
    assert payment["amount"] == {"amount": 5000, "currency": "cad"}
    assert payment["publishable_key"].startswith("pk_")
    assert payment["pay_url"].endswith("/pay")
    assert payment["expires_at"] == held["hold_expires_at"]

    # Nobody is invited to an unpaid hold.
    assert await OutboxMessage.count() == 0
    page = await paying.payment_page(held)
    assert page["status"] == "pending"
    assert page["test_mode"] is True
    again = await paying.payment_page(held)
    assert again["setup_client_secret"] == page["setup_client_secret"]  # one per booking

    saved = await paying.save_card(page, CARD_OK)
    assert saved["status"] == "succeeded"
    paid = await paying.pay(held, saved["id"])
    assert paid.status_code == 200, paid.text
    body = paid.json()
    assert body["status"] == "succeeded"
    assert body["booking"]["status"] == "confirmed"
    assert body["booking"]["payment"] == {
        "status": "succeeded",
        "amount": {"amount": 5000, "currency": "cad"},
        "refunded": {"amount": 0, "currency": "cad"},
    }
    assert len(paying.emulator.charges(held["reference"])) == 1

    # Both partners are invited only now (the practice's therapist takes none by email).
    invitations = await paying.wait_for(2)
    assert sorted(r.recipients[0] for r in invitations) == ["robin@example.org", "sam@example.org"]
    assert all(
        b"METHOD:REQUEST" in r.raw or b'method="REQUEST"' in r.raw or b"REQUEST" in r.raw
        for r in invitations
    )


async def test_the_3d_secure_card_pays_after_its_step(paying: Paying, practice: Practice) -> None:
    held = await paying.hold()
    page = await paying.payment_page(held)
    saved = await paying.save_card(page, CARD_3DS)
    first = (await paying.pay(held, saved["id"])).json()
    assert first["status"] == "requires_action"
    assert first["booking"]["status"] == "pending_payment"
    # The page runs stripe.confirmCardPayment(client_secret), then asks again.
    paying.emulator.authenticate_payment(first["client_secret"])
    second = (await paying.pay(held, saved["id"])).json()
    assert second["status"] == "succeeded", second
    assert second["booking"]["status"] == "confirmed"
    assert len(paying.emulator.charges(held["reference"])) == 1


async def test_a_declined_card_keeps_the_hold_for_another(
    paying: Paying, practice: Practice
) -> None:
    held = await paying.hold()
    page = await paying.payment_page(held)
    saved = await paying.save_card(page, CARD_DECLINED_ON_CHARGE)
    refused = (await paying.pay(held, saved["id"])).json()
    assert refused["status"] == "failed"
    assert "declined" in refused["message"]
    assert refused["booking"]["status"] == "pending_payment"
    # Another card, on the fresh SetupIntent the answer names.
    retry = await paying.payment_page(held)
    assert retry["setup_client_secret"] == refused["setup_client_secret"]
    saved = await paying.save_card(retry, CARD_OK)
    paid = (await paying.pay(held, saved["id"])).json()
    assert paid["status"] == "succeeded"
    row = await Booking.select(Booking.status).where(Booking.reference == held["reference"]).first()
    assert row is not None
    assert row["status"] == "confirmed"
    assert len(paying.emulator.charges(held["reference"])) == 1


async def test_a_failed_3d_secure_step_charges_nothing_and_allows_another_card(
    paying: Paying, practice: Practice
) -> None:
    held = await paying.hold()
    saved = await paying.save_card(await paying.payment_page(held), CARD_3DS)
    first = (await paying.pay(held, saved["id"])).json()
    assert first["status"] == "requires_action"
    paying.emulator.authenticate_payment(first["client_secret"], success=False)
    refused = (await paying.pay(held, saved["id"])).json()
    assert refused["status"] == "failed"
    assert refused["booking"]["status"] == "pending_payment"
    assert refused["setup_client_secret"]
    assert paying.emulator.charges(held["reference"]) == []
    retry = await paying.payment_page(held)
    saved = await paying.save_card(retry, CARD_OK)
    paid = (await paying.pay(held, saved["id"])).json()
    assert paid["status"] == "succeeded"
    assert len(paying.emulator.charges(held["reference"])) == 1
