"""A row handed to the broker twice (its lease ran out while it waited in a queue) is sent
once: the delivery that renews the lease first sends it, the other sends nothing."""

from __future__ import annotations

import asyncio
import os

from httpx import AsyncClient

from booking.core.settings import Settings
from booking.notifications.delivery import Deliverer
from booking.notifications.tables import OutboxMessage
from booking.notifications.transport import transport_for
from tests.factories import booking_request
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, Practice
from tests.mailserver import MailServer
from tests.waiting import eventually


async def test_two_deliveries_of_one_row_send_one_message(
    client: AsyncClient, practice: Practice, clock: FixedClock, smtp: MailServer
) -> None:
    booked = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert booked.status_code == 201
    settings = Settings.from_env({**os.environ, "SMTP_URL": smtp.url})
    deliverer = Deliverer(
        settings, transport_for(settings.smtp_url, settings.mail_directory), clock
    )
    rows = await OutboxMessage.select(OutboxMessage._meta.primary_key).output(as_list=True)

    outcomes = await asyncio.gather(*(deliverer.deliver(row) for row in rows for _ in range(2)))

    assert sorted(outcomes) == sorted(["sent", "taken"] * len(rows))
    received = await asyncio.to_thread(smtp.wait_for, len(rows), 10)
    assert len(received) == len(rows)
    assert len({m.message["Message-ID"] for m in received}) == len(rows)
    assert await eventually(
        lambda: OutboxMessage.count().where(OutboxMessage.status == "sent"), within=10
    ) == len(rows)
