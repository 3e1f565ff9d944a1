"""`booking payments reconcile`: Stripe's PaymentIntents and refunds beside the records; what
is safe repaired once, the rest listed for a person. This module has an emulator of its own,
so what it holds is exactly what these tests made."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from booking.bookings.statuses import MessageKind
from tests.clocked_cli import CLOCK_ENV
from tests.fixtures.databases import Database
from tests.integration.conftest import NOW, FixedClock
from tests.integration.payments.conftest import Paying
from tests.integration.payments.money import (
    booking_status,
    charge_unseen,
    outbox_rows,
    paid_booking,
    payment_row,
    refund_at_stripe,
    refund_rows,
    refunds_at_stripe,
)
from tests.integration.payments.test_payment_faults import cancel, deliverer, no_worker
from tests.stripe_emulator import (
    SECRET_KEY,
    StripeEmulator,
    start_emulator,
    stop_emulator,
)

__all__ = ["no_worker"]


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[StripeEmulator]:
    emulator = start_emulator()
    try:
        yield emulator
    finally:
        stop_emulator(emulator)


@pytest.fixture
def stripe_emulator(module_emulator: StripeEmulator) -> StripeEmulator:
    """This module's emulator, emptied: each test sees only what it made."""
    httpx.delete(f"{module_emulator.api_base}/_config/data", timeout=10).raise_for_status()
    return module_emulator


def reconcile(database: Database, emulator: StripeEmulator) -> subprocess.CompletedProcess[str]:
    """`booking payments reconcile` as the operator runs it, on the test's database, at the
    test's time (the holds it judges were made by the test's clock)."""
    environment = {**os.environ, **emulator.environment(), CLOCK_ENV: NOW.isoformat()}
    if database.url is None:
        # The database file's directory is the data directory, with the tests' secrets.
        data_dir = Path(database.sqlite_path).parent
        for secret in ("secret_key", "data_key"):
            if not (data_dir / secret).exists():
                shutil.copy2(Path(os.environ["BOOKING_DATA_DIR"]) / secret, data_dir / secret)
        environment["BOOKING_DATA_DIR"] = str(data_dir)
    else:
        environment["DATABASE_URL"] = database.url
    return subprocess.run(
        [sys.executable, "-m", "tests.clocked_cli", "payments", "reconcile"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def run_cli(database: Database, emulator: StripeEmulator) -> Any:
    return await asyncio.to_thread(reconcile, database, emulator)


async def test_reconcile_confirms_a_missed_payment_once(paying: Paying, database: Database) -> None:
    from tests.integration.practice import make_practice

    await make_practice()
    # Given a deposit Stripe took that the service never recorded
    held = await paying.hold()
    await charge_unseen(paying, held)

    # When the operator reconciles, twice
    first = await run_cli(database, paying.emulator)
    second = await run_cli(database, paying.emulator)

    # Then the first run confirmed it and the second found nothing to do
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"repaired: {held['reference']}: paid at Stripe, booking confirmed" in first.stdout
    assert "needs a person: nothing" in first.stdout
    assert second.returncode == 0, second.stdout + second.stderr
    assert "repaired: nothing" in second.stdout
    assert await booking_status(held["reference"]) == "confirmed"
    assert len(await paying.wait_for(2)) >= 2  # both partners invited
    assert len(paying.emulator.charges(held["reference"])) == 1


async def test_reconcile_records_a_refund_whose_answer_was_lost(
    no_worker: Paying, database: Database, clock: FixedClock
) -> None:
    from tests.integration.practice import make_practice

    await make_practice()
    # Given a refund decided, made at Stripe, and never recorded (the worker died)
    held = await paid_booking(no_worker)
    await cancel(no_worker, held)
    intent = (await payment_row(held["reference"]))["payment_intent_id"]
    made = await asyncio.to_thread(refund_at_stripe, no_worker.emulator, intent, 5000)

    # When the operator reconciles
    found = await run_cli(database, no_worker.emulator)

    # Then the refund is recorded, the payment shows it, and the queued work makes no other
    assert found.returncode == 0, found.stdout + found.stderr
    assert f"refund {made} made at Stripe, now recorded" in found.stdout
    (row,) = await refund_rows(held["reference"])
    assert row["stripe_refund_id"] == made
    assert (await payment_row(held["reference"]))["status"] == "refunded"
    from booking.payments.gateway import StripeGateway

    (job,) = await outbox_rows(held["reference"], MessageKind.REFUND)
    real = StripeGateway(SECRET_KEY, no_worker.emulator.api_base)
    assert await deliverer(no_worker, clock, real).deliver(job["id"]) == "sent"
    assert [r["id"] for r in refunds_at_stripe(no_worker.emulator, intent)] == [made]


async def test_reconcile_lists_a_refund_the_service_never_made(
    paying: Paying, database: Database
) -> None:
    from tests.integration.practice import make_practice

    await make_practice()
    # Given a paid booking refunded at Stripe by hand (the dashboard), not by the service
    held = await paid_booking(paying)
    intent = (await payment_row(held["reference"]))["payment_intent_id"]
    made = await asyncio.to_thread(refund_at_stripe, paying.emulator, intent, 2000)

    # When the operator reconciles
    found = await run_cli(database, paying.emulator)

    # Then it is listed for a person, nothing changes, and the command says so by its status
    assert found.returncode == 1, found.stdout + found.stderr
    assert (
        f"needs a person: {held['reference']}: refund {made} of 2000 cad at Stripe "
        "was not made by the service"
    ) in found.stdout
    payment = await payment_row(held["reference"])
    assert (payment["status"], payment["refunded_amount"]) == ("succeeded", 0)
