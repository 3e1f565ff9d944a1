"""Giving a booking to another therapist, as the couple and both therapists see it: the same
calendar event with a new SEQUENCE for the couple, an invitation for the new therapist, a
CANCEL for the one it left, and the move in the new therapist's feed."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
from httpx import AsyncClient

from booking.core.audit import AuditEvent
from booking.notifications.delivery import Deliverer
from booking.notifications.feeds import FeedService
from booking.notifications.tables import OutboxMessage
from booking.notifications.transport import SmtpTransport
from booking.scheduling.tables import Therapist
from tests.factories import booking_request, make_therapist
from tests.integration.conftest import FixedClock
from tests.integration.notifications.conftest import Delivering, mail_settings
from tests.integration.notifications.test_invitations import (
    ANA_EMAIL,
    book,
    by_recipient,
    calendar_part,
    event_of,
)
from tests.integration.practice import AT_10, Practice
from tests.integration.staff.conftest import ADMIN, make_staff
from tests.mailserver import MailServer

BEN_EMAIL = "ben@harbour.example"


async def test_reassignment_moves_the_invitation_and_the_feed(
    delivering: Delivering, practice: Practice, clock: FixedClock
) -> None:
    await Therapist.update({Therapist.email: ANA_EMAIL}).where(Therapist.slug == "ana")
    await make_therapist(
        "ben",
        name="Ben Okafor",
        email=BEN_EMAIL,
        types=(practice.type_id,),
        hours=((0, "09:00", "12:00"),),
        modes=["video", "phone"],
    )
    booked = await book(delivering)
    reference = booked["reference"]
    invited = by_recipient(await delivering.wait_for(3))
    staff = make_staff(delivering.settings, clock)

    moved = await staff.review.reassign(ADMIN, reference, "ben")

    assert (moved.former_therapist, moved.therapist, moved.sequence) == ("ana", "ben", 1)
    after = by_recipient((await delivering.wait_for(7))[3:])
    assert set(after) == {"robin@example.org", "sam@example.org", BEN_EMAIL, ANA_EMAIL}
    uid = str(event_of(calendar_part(invited[ANA_EMAIL])[1])[0][1]["UID"])
    expected = {
        "robin@example.org": "REQUEST",
        "sam@example.org": "REQUEST",
        BEN_EMAIL: "REQUEST",
        ANA_EMAIL: "CANCEL",
    }
    for address, method in expected.items():
        received = after[address]
        part_method, ics = calendar_part(received)
        (_, event), (strict_calendar, strict_event) = event_of(ics)
        assert part_method == method == strict_calendar.method, address
        assert str(event["UID"]) == uid
        assert strict_event.sequence == 1
        assert strict_event.dtstart == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
        listed = event.get("ATTENDEE")
        listed = listed if isinstance(listed, list) else [listed]
        attendees = {str(a).removeprefix("mailto:").lower() for a in listed}
        if method == "CANCEL":
            # Ana is removed from the event; the CANCEL names only her.
            assert attendees == {ANA_EMAIL}
            assert str(event["STATUS"]) == "CANCELLED"
            assert "another therapist" in received.message["Subject"]
        else:
            assert attendees == {"robin@example.org", "sam@example.org", BEN_EMAIL}
    assert "Ben Okafor" in after["robin@example.org"].message["Subject"]
    # The new therapist's feed holds the consultation; the old one's no longer does.
    feeds = FeedService(delivering.settings, clock)
    base = delivering.settings.public_base_url
    for slug, count in (("ben", 1), ("ana", 0)):
        url = (await feeds.url_for(slug)).removeprefix(base)
        feed = await delivering.client.get(url)
        assert feed.status_code == 200
        in_feed = list(icalendar.Calendar.from_ical(feed.content).walk("VEVENT"))
        assert [str(e["UID"]) for e in in_feed] == [uid] * count, slug
    events = await AuditEvent.select(AuditEvent.actor, AuditEvent.record).where(
        AuditEvent.action == "booking.reassigned"
    )
    assert events == [{"actor": "staff:1", "record": "therapist ana -> ben"}]


async def test_the_former_therapist_is_not_told_when_the_booking_comes_back(
    client: AsyncClient, practice: Practice, clock: FixedClock, smtp: MailServer
) -> None:
    # Given a booking moved to Ben (who follows no email) and back to Ana, before anything
    # was delivered
    await make_therapist(
        "ben", name="Ben Okafor", types=(practice.type_id,), hours=((0, "09:00", "12:00"),)
    )
    await Therapist.update({Therapist.email: ANA_EMAIL}).where(Therapist.slug == "ana")
    response = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert response.status_code == 201
    reference = response.json()["reference"]
    settings = mail_settings(smtp)
    staff = make_staff(settings, clock)
    await staff.review.reassign(ADMIN, reference, "ben")
    await staff.review.reassign(ADMIN, reference, "ana")
    assert settings.smtp_url is not None
    deliverer = Deliverer(settings, SmtpTransport(settings.smtp_url), clock)

    # When every queued message is delivered through a real SMTP server
    rows = await (
        OutboxMessage.select(
            OutboxMessage._meta.primary_key, OutboxMessage.kind, OutboxMessage.recipient
        )
        .where(OutboxMessage.recipient.is_in(["therapist", "former_therapist"]))
        .order_by(OutboxMessage._meta.primary_key)
    )
    outcomes = [(r["kind"], r["recipient"], await deliverer.deliver(r["id"])) for r in rows]

    # Then Ana's CANCEL of the first move is skipped, and her invitation for SEQUENCE 2 sent
    assert outcomes == [
        ("invitation", "therapist", "skipped"),  # SEQUENCE 0: superseded
        ("reassigned", "former_therapist", "skipped"),  # Ana holds it again
        ("invitation", "therapist", "sent"),
    ]
    (received,) = smtp.wait_for(1, 10)
    assert received.recipients == [ANA_EMAIL]
    method, ics = calendar_part(received)
    assert method == "REQUEST"
    assert event_of(ics)[1][1].sequence == 2
