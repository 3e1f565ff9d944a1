"""Invitations, updates and cancellations reach everyone, once, on every broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
from ical.calendar_stream import IcsCalendarStream

from booking.notifications.tables import OutboxMessage
from booking.scheduling.tables import Therapist
from tests.factories import DISTINCTIVE, booking_request, couple_answers, partner_answers
from tests.integration.conftest import FixedClock
from tests.integration.notifications.conftest import Delivering
from tests.integration.practice import AT_9, AT_10, Practice, intake_token, manage_token
from tests.mailserver import Received
from tests.waiting import eventually

ANA_EMAIL = "ana@harbour.example"


def calendar_part(received: Received) -> tuple[str, bytes]:
    """The text/calendar alternative: its method parameter and its body."""
    for part in received.message.walk():
        if part.get_content_type() == "text/calendar":
            body = part.get_payload(decode=True)
            assert isinstance(body, bytes), type(body)
            return str(part.get_param("method")), body
    raise AssertionError("no text/calendar part")


def event_of(ics: bytes) -> tuple[Any, Any]:
    """The event as icalendar reads it, and as the independent strict parser reads it."""
    loose = icalendar.Calendar.from_ical(ics)
    strict = IcsCalendarStream.calendar_from_ics(ics.decode())
    (event,) = list(loose.walk("VEVENT"))
    (strict_event,) = strict.events
    return (loose, event), (strict, strict_event)


def by_recipient(messages: list[Received]) -> dict[str, Received]:
    return {m.recipients[0]: m for m in messages}


async def book(
    delivering: Delivering, start: str = AT_10, *, flagged: bool = False
) -> dict[str, Any]:
    """Books with distinctive answers; `flagged` also raises the safety flag (which sends the
    practice a notice besides the invitations)."""
    body = booking_request(start)
    body["intake"]["couple"] = couple_answers(hoped_for_help=f"Couple: {DISTINCTIVE}")
    body["intake"]["booker"] = partner_answers(
        hoped_for_change=f"Mine: {DISTINCTIVE}", safe_at_home="not_sure" if flagged else "yes"
    )
    response = await delivering.client.post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_booking_invites_both_partners_and_the_therapist(
    delivering: Delivering, practice: Practice
) -> None:
    await Therapist.update({Therapist.email: ANA_EMAIL}).where(Therapist.slug == "ana")
    booked = await book(delivering)

    messages = by_recipient(await delivering.wait_for(3))

    assert set(messages) == {"robin@example.org", "sam@example.org", ANA_EMAIL}
    for received in messages.values():
        method, ics = calendar_part(received)
        assert method == "REQUEST"
        (loose_calendar, event), (_, strict_event) = event_of(ics)
        assert loose_calendar["METHOD"] == "REQUEST"
        assert strict_event.sequence == 0
        assert strict_event.dtstart == datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
        assert strict_event.dtend == datetime(2026, 12, 7, 15, 50, tzinfo=UTC)
        assert str(event["UID"]) == f"booking-{booked['reference']}@book.harbour.example"
        attendees = {str(a).removeprefix("mailto:").lower() for a in event.get("ATTENDEE")}
        assert attendees == {"robin@example.org", "sam@example.org", ANA_EMAIL}
        assert [p.get_filename() for p in received.message.walk() if p.get_filename()] == [
            "invite.ics"
        ]
    # The second partner's email carries their own link; the others do not.
    second = messages["sam@example.org"].raw.decode()
    assert intake_token(booked["reference"], 2) in second
    assert intake_token(booked["reference"], 1) not in messages["robin@example.org"].raw.decode()
    assert manage_token(booked["manage_url"]) not in messages[ANA_EMAIL].raw.decode()


async def test_no_private_answer_or_safety_flag_is_in_any_message(
    delivering: Delivering, practice: Practice
) -> None:
    await Therapist.update({Therapist.email: ANA_EMAIL}).where(Therapist.slug == "ana")
    await book(delivering, flagged=True)

    for received in await delivering.wait_for(4):  # the couple, the therapist, the practice
        text = received.message.as_string()
        assert DISTINCTIVE not in text
        assert "chores" not in text
        assert "safety" not in text.lower()
        assert "not_sure" not in text


async def test_reschedule_and_cancel_update_the_same_event(
    delivering: Delivering, practice: Practice
) -> None:
    booked = await book(delivering)
    token = manage_token(booked["manage_url"])
    first = await delivering.wait_for(2)

    moved = await delivering.client.post(
        f"/api/v1/bookings/{token}/reschedule", json={"start": AT_9}
    )
    assert moved.status_code == 200
    second = (await delivering.wait_for(4))[2:]
    cancelled = await delivering.client.post(f"/api/v1/bookings/{token}/cancel")
    assert cancelled.status_code == 200
    third = (await delivering.wait_for(6))[4:]

    steps = [(first, "REQUEST", 0, 15), (second, "REQUEST", 1, 14), (third, "CANCEL", 2, 14)]
    uids = set()
    for batch, method, sequence, hour in steps:
        assert {m.recipients[0] for m in batch} == {"robin@example.org", "sam@example.org"}
        for received in batch:
            part_method, ics = calendar_part(received)
            (_, event), (strict_calendar, strict_event) = event_of(ics)
            assert part_method == method == strict_calendar.method
            assert strict_event.sequence == sequence
            assert strict_event.dtstart == datetime(2026, 12, 7, hour, 0, tzinfo=UTC)
            uids.add(str(event["UID"]))
            if method == "CANCEL":
                assert str(event["STATUS"]) == "CANCELLED"
    assert len(uids) == 1


async def test_a_therapist_on_the_feed_gets_no_invitation_email(
    delivering: Delivering, practice: Practice
) -> None:
    await Therapist.update({Therapist.email: ANA_EMAIL, Therapist.email_invitations: False}).where(
        Therapist.slug == "ana"
    )
    await book(delivering)

    received = await delivering.wait_for(2)

    assert {m.recipients[0] for m in received} == {"robin@example.org", "sam@example.org"}
    recipients = await OutboxMessage.select(OutboxMessage.recipient).output(as_list=True)
    assert "therapist" not in recipients


async def test_an_unpaid_hold_sends_no_invitation(
    delivering: Delivering, practice: Practice
) -> None:
    response = await delivering.client.post(
        "/api/v1/bookings", json=booking_request(AT_10, kind="paid")
    )
    assert response.json()["status"] == "pending_payment"
    assert await OutboxMessage.count() == 0


async def test_reminders_arrive_before_the_consultation_and_never_after_a_cancel(
    delivering: Delivering, practice: Practice, clock: FixedClock
) -> None:
    kept = await book(delivering, AT_10)
    dropped = await book(delivering, "2026-12-14T09:00:00-05:00")
    await delivering.wait_for(4)
    token = manage_token(dropped["manage_url"])
    assert (await delivering.client.post(f"/api/v1/bookings/{token}/cancel")).status_code == 200
    await delivering.wait_for(6)

    clock.now = datetime.fromisoformat(AT_10) - timedelta(hours=23)  # past the 24-hour mark
    reminders = (await delivering.wait_for(8))[6:]

    assert {m.recipients[0] for m in reminders} == {"robin@example.org", "sam@example.org"}
    for received in reminders:
        assert "reminder" in received.message["Subject"].lower()

    async def reminder_states() -> set[tuple[str, str]]:
        rows = await OutboxMessage.select(
            OutboxMessage.booking.reference, OutboxMessage.status
        ).where(OutboxMessage.kind == "reminder")
        states = {(r["booking.reference"], r["status"]) for r in rows}
        return states if all(status != "pending" for _, status in states) else set()

    by_booking = await eventually(reminder_states)
    assert (kept["reference"], "sent") in by_booking
    assert (dropped["reference"], "skipped") in by_booking
    assert (dropped["reference"], "sent") not in by_booking
