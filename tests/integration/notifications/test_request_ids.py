"""The request that wrote an outbox row, kept with the row and named on its delivery's log
lines.

In process on the test's database; the same promises through real `booking serve` and
`booking worker` processes are in tests/integration/notifications/faults/test_request_id_lines.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from booking.bookings.statuses import MessageKind, Recipient
from booking.bookings.tables import Booking
from booking.core.db import write_transaction
from booking.core.logs import REQUEST_ID, NameRequest
from booking.notifications import outbox
from booking.notifications.tables import OutboxMessage
from tests.factories import booking_request
from tests.integration.conftest import FixedClock
from tests.integration.notifications.conftest import Delivering
from tests.integration.notifications.faults.conftest import LogRecords
from tests.integration.practice import AT_10, Practice

TOKEN_SHAPED = "A" * 43  # what a link token looks like (booking.core.tokens)


async def request_ids() -> list[str | None]:
    rows = await OutboxMessage.select(OutboxMessage.request_id).order_by(
        OutboxMessage._meta.primary_key
    )
    return [row["request_id"] for row in rows]


async def test_every_outbox_row_a_booking_writes_keeps_its_request_id(
    client: Any, practice: Practice
) -> None:
    created = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert created.status_code == 201, created.text

    ids = await request_ids()
    assert len(ids) == 4  # an invitation and a reminder to each partner
    assert set(ids) == {created.headers["x-request-id"]}


async def test_a_row_written_outside_a_request_or_under_a_token_shaped_id_keeps_none(
    client: Any, practice: Practice, clock: FixedClock
) -> None:
    created = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    booking = await Booking.select(Booking._meta.primary_key, Booking.reference).first()
    assert created.status_code == 201
    assert booking is not None
    await OutboxMessage.delete(force=True)

    async def queue(sequence: int) -> None:
        async with write_transaction():
            await outbox.queue_messages(
                booking["id"],
                booking["reference"],
                MessageKind.UPDATE,
                sequence,
                [Recipient.PARTNER_1],
                clock.now,
            )

    await queue(1)  # as a sweep or a command would: no request
    reset = REQUEST_ID.set(TOKEN_SHAPED)
    try:
        await queue(2)
    finally:
        REQUEST_ID.reset(reset)

    assert await request_ids() == [None, None]


@pytest.fixture
def outbox_log() -> Iterator[LogRecords]:
    handler = LogRecords()
    handler.addFilter(NameRequest())  # as every configured handler has
    logger = logging.getLogger("booking.outbox")
    previous = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def delivery_records(log: LogRecords) -> list[logging.LogRecord]:
    return [r for r in log.records if r.getMessage().startswith("outbox message ")]


@pytest.mark.parametrize("delivering", ["embedded"], indirect=True)
async def test_the_in_process_worker_names_the_booking_request_on_its_delivery_lines(
    delivering: Delivering, practice: Practice, outbox_log: LogRecords
) -> None:
    created = await delivering.client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert created.status_code == 201, created.text
    await delivering.wait_for(2)
    assert outbox_log.wait_for(": sent in ", count=2)

    delivered = [r for r in delivery_records(outbox_log) if ": sent in " in r.getMessage()]
    assert len(delivered) == 2
    assert {getattr(r, "request_id", None) for r in delivered} == {created.headers["x-request-id"]}
