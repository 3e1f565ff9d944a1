"""Faults around money: the service stopped between Stripe's success and its own record, the
worker killed in the middle of a refund, Stripe unreachable while refunding. Each ends with
one charge, one refund, and anything left over in front of the operator."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.bookings.statuses import MessageKind
from booking.bookings.tables import Booking
from booking.core.db import LeanSQLiteEngine, LockSpace, lock, write_transaction
from booking.notifications import outbox
from booking.notifications.delivery import Deliverer
from booking.notifications.transport import transport_for
from booking.payments import settle
from booking.payments.assembly import payment_parts
from booking.payments.gateway import PaymentGateway, RefundInfo, StripeGateway
from booking.payments.refunds import PaymentWorkRunner
from booking.web.app import create_app
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.payments.conftest import Paying, paying_settings
from tests.integration.payments.money import (
    booking_status,
    charge_unseen,
    outbox_rows,
    paid_booking,
    payment_row,
    post_event,
    refund_rows,
    refunds_at_stripe,
)
from tests.integration.practice import Practice, manage_token
from tests.mailserver import MailServer, free_port
from tests.stripe_emulator import SECRET_KEY, StripeEmulator


@pytest.fixture
async def no_worker(
    database: Database, clock: FixedClock, stripe_emulator: StripeEmulator, smtp: MailServer
) -> AsyncIterator[Paying]:
    """The paying app with no worker: the test runs the outbox's payment work itself."""
    settings = dataclasses.replace(paying_settings(stripe_emulator, smtp), embedded_worker=False)
    app = create_app(settings, database.engine, clock)
    async with AsyncTestClient(app, base_url="http://testserver.local") as client:
        client.follow_redirects = False
        yield Paying(client, stripe_emulator, smtp, settings)


class Killed(BaseException):
    """The worker's process ending where it stands (nothing after it runs)."""


@dataclasses.dataclass
class DiesAfterRefund:
    """The real gateway, in a worker that is killed right after Stripe made the refund and
    before the answer reaches the database."""

    gateway: PaymentGateway

    def __getattr__(self, name: str) -> Any:
        return getattr(self.gateway, name)

    async def create_refund(self, payment_intent_id: str, amount: int, key: str) -> RefundInfo:
        await self.gateway.create_refund(payment_intent_id, amount, key)
        raise Killed()


async def cancel(paying: Paying, held: dict[str, Any]) -> dict[str, Any]:
    token = manage_token(held["manage_url"])
    answer = await paying.client.post(f"/api/v1/bookings/{token}/cancel", json={})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def deliverer(paying: Paying, clock: FixedClock, gateway: PaymentGateway) -> Deliverer:
    return Deliverer(
        paying.settings,
        transport_for(paying.settings.smtp_url, paying.settings.mail_directory),
        clock,
        payment_work=PaymentWorkRunner(gateway, clock),
    )


async def test_a_success_the_service_never_recorded_is_confirmed_once(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    # Given a deposit Stripe took while the service was stopped before recording it
    held = await paying.hold()
    intent = await charge_unseen(paying, held)

    # When reconciliation runs, then again, and then the delayed webhook arrives
    parts = payment_parts(paying.settings, clock)
    assert parts.reconciler is not None
    first = await parts.reconciler.run()
    second = await parts.reconciler.run()
    late_event = await post_event(paying, "payment_intent.succeeded", intent["id"])

    # Then the booking was confirmed by the first run only, with one charge and one invitation
    # to each partner
    assert f"{held['reference']}: paid at Stripe, booking confirmed" in first.repaired
    assert not [line for line in second.repaired if held["reference"] in line]
    assert late_event.json()["effect"] == "no_change"
    assert await booking_status(held["reference"]) == "confirmed"
    assert len(paying.emulator.charges(held["reference"])) == 1
    invitations = await paying.wait_for(2)
    assert sorted(r.recipients[0] for r in invitations) == ["robin@example.org", "sam@example.org"]


async def test_a_worker_killed_during_a_refund_does_not_refund_twice(
    no_worker: Paying, practice: Practice, clock: FixedClock
) -> None:
    # Given a paid booking cancelled inside its refund window
    held = await paid_booking(no_worker)
    assert (await cancel(no_worker, held))["refund"] == {"amount": 5000, "currency": "cad"}
    (job,) = await outbox_rows(held["reference"], MessageKind.REFUND)
    real = StripeGateway(SECRET_KEY, no_worker.emulator.api_base)

    # When a worker is killed after Stripe refunded and before the database heard
    ids = [c.id for c in await outbox.claim_due(clock(), timedelta(minutes=5), 10)]
    assert job["id"] in ids
    with pytest.raises(Killed):
        await deliverer(no_worker, clock, DiesAfterRefund(real)).deliver(job["id"])
    intent = (await payment_row(held["reference"]))["payment_intent_id"]
    assert len(refunds_at_stripe(no_worker.emulator, intent)) == 1
    assert (await refund_rows(held["reference"]))[0]["stripe_refund_id"] is None

    # And the row's lease runs out and another worker takes it
    clock.now += timedelta(minutes=6)
    assert job["id"] in [c.id for c in await outbox.claim_due(clock(), timedelta(minutes=5), 10)]
    status = await deliverer(no_worker, clock, real).deliver(job["id"])

    # Then the refund Stripe already made is recorded, and no second one is made
    assert status == "sent"
    at_stripe = refunds_at_stripe(no_worker.emulator, intent)
    (row,) = await refund_rows(held["reference"])
    assert [r["id"] for r in at_stripe] == [row["stripe_refund_id"]]
    payment = await payment_row(held["reference"])
    assert (payment["status"], payment["refunded_amount"]) == ("refunded", 5000)

    # And running the same row again (a duplicate hand-off) does nothing
    assert await deliverer(no_worker, clock, real).deliver(job["id"]) == "sent"
    assert len(refunds_at_stripe(no_worker.emulator, intent)) == 1


async def test_a_refund_stripe_cannot_take_is_retried_then_shown_to_the_operator(
    no_worker: Paying, practice: Practice, clock: FixedClock
) -> None:
    # Given a refund decided while Stripe cannot be reached
    held = await paid_booking(no_worker)
    await cancel(no_worker, held)
    (job,) = await outbox_rows(held["reference"], MessageKind.REFUND)
    down = StripeGateway(SECRET_KEY, f"http://127.0.0.1:{free_port()}")

    # When the worker tries it
    status = await deliverer(no_worker, clock, down).deliver(job["id"])

    # Then it is kept for a later attempt, with backoff
    assert status == "pending"
    (row,) = await outbox_rows(held["reference"], MessageKind.REFUND)
    assert row["attempts"] == 1
    assert row["next_attempt_at"] > clock()
    assert "Stripe unavailable" in row["last_error"]

    # And after the last attempt it gives up where the operator looks
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        status = await deliverer(no_worker, clock, down).deliver(job["id"])
    assert status == "failed"
    (failed,) = await outbox.failed_messages()
    assert (failed.reference, failed.kind, failed.recipient) == (
        held["reference"],
        "refund",
        "payment_provider",
    )
    intent = (await payment_row(held["reference"]))["payment_intent_id"]
    assert refunds_at_stripe(no_worker.emulator, intent) == []

    # And once redriven with Stripe back, the refund is made once
    await outbox.redrive([job["id"]], clock())
    real = StripeGateway(SECRET_KEY, no_worker.emulator.api_base)
    assert await deliverer(no_worker, clock, real).deliver(job["id"]) == "sent"
    assert (await payment_row(held["reference"]))["status"] == "refunded"


async def test_a_payment_locked_too_long_answers_503_and_the_retry_confirms(
    paying: Paying, practice: Practice, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a paid intent whose booking's payment another request holds locked
    held = await paying.hold()
    intent = await charge_unseen(paying, held)
    monkeypatch.setattr(settle, "LOCK_WAIT_SECONDS", 0.5)
    if isinstance(database.engine, LeanSQLiteEngine):
        # SQLite's writers wait the busy timeout: a short one, on fresh connections.
        database.engine.connection_kwargs["timeout"] = 0.5
        await database.engine.close_idle()
    booking_id = (
        await Booking.select(Booking._meta.primary_key)
        .where(Booking.reference == held["reference"])
        .first()
    )
    assert booking_id is not None
    locked, release = asyncio.Event(), asyncio.Event()

    async def hold_the_lock() -> None:
        async with write_transaction():
            await lock(LockSpace.PAYMENT, booking_id["id"])
            locked.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_lock())
    await locked.wait()

    # When Stripe's event arrives meanwhile
    try:
        busy = await post_event(paying, "payment_intent.succeeded", intent["id"], "evt_busy")
    finally:
        release.set()
        await holder

    # Then it is asked to come back, with nothing done or recorded
    assert busy.status_code == 503, busy.text
    assert busy.json()["error"]["code"] == "try_again_later"
    assert await booking_status(held["reference"]) == "pending_payment"

    # And Stripe's retry of the same event confirms the booking
    retried = await post_event(paying, "payment_intent.succeeded", intent["id"], "evt_busy")
    assert retried.json()["effect"] == "confirmed"
