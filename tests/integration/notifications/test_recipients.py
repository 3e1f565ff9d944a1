"""Each message goes to the one address stored for its recipient, whatever a name holds."""

from __future__ import annotations

from email.headerregistry import AddressHeader

from httpx import AsyncClient
from ical.calendar_stream import IcsCalendarStream

from booking.bookings.tables import Partner
from booking.notifications.delivery import Deliverer
from booking.notifications.tables import OutboxMessage
from booking.notifications.transport import SmtpTransport
from booking.scheduling.tables import Therapist
from tests.factories import booking_request
from tests.integration.conftest import FixedClock
from tests.integration.notifications.conftest import mail_settings
from tests.integration.notifications.test_invitations import calendar_part
from tests.integration.practice import AT_10, Practice
from tests.mailserver import MailServer

ATTACKER = "spy@attacker.example"
# Names as they may have been stored before names were checked at booking.
HOSTILE_NAMES = {
    1: f"Robin <{ATTACKER}>, Robin",
    2: f'Jamie <{ATTACKER}>, "Jamie" <other@attacker.example>; Jamie',
}
THERAPIST_EMAIL = "ana@harbour.example"
STORED = {"robin@example.org", "sam@example.org", THERAPIST_EMAIL}


async def test_a_stored_name_holding_addresses_reaches_only_the_stored_address(
    client: AsyncClient, practice: Practice, clock: FixedClock, smtp: MailServer
) -> None:
    # Given a booking whose names (and the therapist's) hold addresses, stored as if before
    # the rule that now refuses them
    await Therapist.update(
        {Therapist.email: THERAPIST_EMAIL, Therapist.name: f"Ana <{ATTACKER}>, Ana"}
    ).where(Therapist.slug == "ana")
    assert (await client.post("/api/v1/bookings", json=booking_request(AT_10))).status_code == 201
    for position, name in HOSTILE_NAMES.items():
        await Partner.update({Partner.name: name}).where(Partner.position == position)
    settings = mail_settings(smtp)
    assert settings.smtp_url is not None
    deliverer = Deliverer(settings, SmtpTransport(settings.smtp_url), clock)

    # When the invitations are delivered through a real SMTP server
    rows = await (
        OutboxMessage.select(OutboxMessage._meta.primary_key)
        .where(OutboxMessage.kind == "invitation")
        .output(as_list=True)
    )
    assert [await deliverer.deliver(row) for row in rows] == ["sent"] * 3

    # Then each went to exactly its stored address, and says so in one To address
    received = smtp.wait_for(3, 10)
    assert len(received) == 3
    assert sorted(r.recipients[0] for r in received) == sorted(STORED)
    for message in received:
        assert len(message.recipients) == 1
        parsed = message.message
        to = parsed["To"]
        assert isinstance(to, AddressHeader)
        assert [a.addr_spec for a in to.addresses] == message.recipients
        assert ATTACKER not in {a.addr_spec for a in to.addresses}
        sender = parsed["From"]
        assert isinstance(sender, AddressHeader)
        assert [a.addr_spec for a in sender.addresses] == ["bookings@harbour.example"]
        # The invitation names the same three people, each by their own stored address.
        _, ics = calendar_part(message)
        (event,) = IcsCalendarStream.calendar_from_ics(ics.decode()).events
        attendees = sorted(a.uri.removeprefix("mailto:").lower() for a in event.attendees)
        assert attendees == sorted(STORED)
        assert event.organizer is not None
        assert event.organizer.uri.removeprefix("mailto:") == "bookings@harbour.example"
