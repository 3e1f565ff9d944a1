"""Invitations and feeds are read back by two independent parsers: icalendar (which wrote them)
and `ical`, a strict RFC 5545 parser, so a file both accept is one calendar apps accept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from ical.calendar import Calendar as IcalCalendar
from ical.calendar_stream import IcsCalendarStream
from ical.event import EventStatus

from booking.notifications.calendar import (
    Attendee,
    ConsultationEvent,
    booking_uid,
    build_feed,
    build_invitation,
)

TORONTO = ZoneInfo("America/Toronto")
FIRST_START = datetime(2026, 12, 1, 9, 30, tzinfo=TORONTO)  # 14:30 UTC
MOVED_START = datetime(2026, 12, 3, 16, 0, tzinfo=TORONTO)  # 21:00 UTC
LENGTH = timedelta(minutes=50)
UID = booking_uid("K7P2QX", "book.example.org")
ATTENDEES = (
    Attendee("ann@example.com", "Ann Lee"),
    Attendee("bo@example.com", "Bo Martin"),
    Attendee("maya@practice.example.org", "Dr Maya Chen"),
)


def consultation(**changes: object) -> ConsultationEvent:
    event = ConsultationEvent(
        uid=UID,
        sequence=0,
        cancelled=False,
        starts_at=FIRST_START,
        ends_at=FIRST_START + LENGTH,
        summary="First consultation with Dr Maya Chen",
        description="A first conversation to see whether working together is a good fit.",
        location="12 King St W, Toronto",
        organizer_email="bookings@practice.example.org",
        organizer_name="Harbour Couples Practice",
        attendees=ATTENDEES,
        stamp=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
        url="https://book.example.org/manage/abc",
    )
    return replace(event, **changes)  # type: ignore[arg-type]


def parse_both(ics: bytes) -> tuple[icalendar.Calendar, IcalCalendar]:
    return icalendar.Calendar.from_ical(ics), IcsCalendarStream.calendar_from_ics(ics.decode())


def physical_lines(ics: bytes) -> list[bytes]:
    assert ics.endswith(b"\r\n")
    lines = ics[:-2].split(b"\r\n")
    assert not any(b"\n" in line or b"\r" in line for line in lines), "bare LF or CR"
    return lines


def lifecycle() -> list[tuple[bytes, str, int, datetime, str]]:
    """Invite, move, cancel: (ics, method, sequence, start, status) for each message."""
    invited = consultation()
    moved = replace(invited, sequence=1, starts_at=MOVED_START, ends_at=MOVED_START + LENGTH)
    cancelled = replace(moved, sequence=2, cancelled=True)
    return [
        (build_invitation(invited, "REQUEST"), "REQUEST", 0, FIRST_START, "CONFIRMED"),
        (build_invitation(moved, "REQUEST"), "REQUEST", 1, MOVED_START, "CONFIRMED"),
        (build_invitation(cancelled, "CANCEL"), "CANCEL", 2, MOVED_START, "CANCELLED"),
    ]


@pytest.mark.parametrize("step", [0, 1, 2], ids=["invite", "reschedule", "cancel"])
def test_invite_move_cancel_keep_the_uid_and_raise_the_sequence(step: int) -> None:
    ics, method, sequence, start, status = lifecycle()[step]
    ours, strict = parse_both(ics)

    assert str(ours["METHOD"]) == method
    assert strict.method == method
    assert str(ours["VERSION"]) == "2.0"
    assert str(ours["CALSCALE"]) == "GREGORIAN"
    assert str(ours["PRODID"]).startswith("-//booking//")
    [event] = ours.events
    [strict_event] = strict.events
    assert event.uid == strict_event.uid == UID
    assert event.sequence == strict_event.sequence == sequence
    assert event.start == strict_event.dtstart == start.astimezone(UTC)
    assert event.end == strict_event.dtend == (start + LENGTH).astimezone(UTC)
    assert isinstance(strict_event.dtstart, datetime)
    assert strict_event.dtstart.utcoffset() == timedelta(0)
    assert event.status == status
    assert strict_event.status == EventStatus(status)
    assert strict_event.transparency == "OPAQUE"
    # UTC times need no VTIMEZONE, and none is present.
    assert f"DTSTART:{start.astimezone(UTC):%Y%m%dT%H%M%SZ}".encode() in ics
    assert b"TZID" not in ics
    assert not strict.timezones
    assert strict_event.organizer is not None
    assert strict_event.organizer.uri == "mailto:bookings@practice.example.org"
    assert strict_event.organizer.common_name == "Harbour Couples Practice"
    assert [a.uri for a in strict_event.attendees] == [f"mailto:{a.email}" for a in ATTENDEES]
    assert [a.common_name for a in strict_event.attendees] == [a.name for a in ATTENDEES]
    assert [a.email for a in event.attendees] == [a.email for a in ATTENDEES]


def test_a_request_asks_every_attendee_to_reply() -> None:
    ours, strict = parse_both(build_invitation(consultation(), "REQUEST"))

    for attendee in strict.events[0].attendees:
        assert attendee.rsvp is True
        assert attendee.status == "NEEDS-ACTION"
        assert attendee.role == "REQ-PARTICIPANT"
    for address in ours.events[0].attendees:
        assert address.params["RSVP"] == "TRUE"
        assert address.params["PARTSTAT"] == "NEEDS-ACTION"


def test_a_cancel_names_the_attendees_without_asking_for_a_reply() -> None:
    ics = build_invitation(consultation(sequence=2, cancelled=True), "CANCEL")
    _, strict = parse_both(ics)

    assert len(strict.events[0].attendees) == len(ATTENDEES)
    for attendee in strict.events[0].attendees:
        assert attendee.rsvp is None
        assert attendee.status is None
    assert b"RSVP" not in ics
    assert b"NEEDS-ACTION" not in ics


def test_cancel_is_always_status_cancelled() -> None:
    """RFC 5546: cancelling the whole event means STATUS:CANCELLED, whatever the caller says."""
    _, strict = parse_both(build_invitation(consultation(sequence=1), "CANCEL"))

    assert strict.events[0].status == EventStatus.CANCELLED


def test_a_cancelled_event_cannot_be_sent_as_a_request() -> None:
    with pytest.raises(ValueError, match="METHOD:CANCEL"):
        build_invitation(consultation(cancelled=True), "REQUEST")


def test_a_publish_file_lists_no_attendees() -> None:
    ics = build_invitation(consultation(), "PUBLISH")
    _, strict = parse_both(ics)

    assert strict.method == "PUBLISH"
    assert strict.events[0].attendees == []
    assert b"ATTENDEE" not in ics


@pytest.mark.parametrize(
    "changes",
    [
        {"starts_at": datetime(2026, 12, 1, 9, 30)},
        {"stamp": datetime(2026, 11, 20, 12, 0)},
        {"ends_at": FIRST_START},
        {"sequence": -1},
        {"uid": "two\r\nlines"},
    ],
    ids=["naive-start", "naive-stamp", "empty-range", "negative-sequence", "multiline-uid"],
)
def test_an_event_refuses_impossible_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        consultation(**changes)


def test_the_same_event_always_gives_the_same_bytes() -> None:
    assert build_invitation(consultation(), "REQUEST") == build_invitation(
        consultation(), "REQUEST"
    )


def test_the_feed_carries_each_event_and_no_attendee_address() -> None:
    starts = [FIRST_START + timedelta(days=d) for d in (0, 1, 7)]
    events = [
        consultation(
            uid=booking_uid(f"REF{i}", "book.example.org"),
            starts_at=start,
            ends_at=start + LENGTH,
            summary=f"Consultation: Ann & Bo {i}",
        )
        for i, start in enumerate(starts)
    ]

    feed = build_feed("Dr Maya Chen: consultations", events)
    ours, strict = parse_both(feed)

    assert strict.method == "PUBLISH"
    assert strict.name == ["Dr Maya Chen: consultations"]
    assert strict.refresh_interval == timedelta(hours=1)
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in feed
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in feed
    assert str(ours["X-WR-CALNAME"]) == "Dr Maya Chen: consultations"
    assert [e.uid for e in strict.events] == [e.uid for e in events]
    assert [e.dtstart for e in strict.events] == [s.astimezone(UTC) for s in starts]
    assert all(e.attendees == [] for e in strict.events)
    assert b"ATTENDEE" not in feed
    for attendee in ATTENDEES:
        assert attendee.email.encode() not in feed


def test_an_empty_feed_is_still_a_calendar() -> None:
    feed = build_feed("Dr Maya Chen: consultations", [])
    _, strict = parse_both(feed)

    assert strict.events == []
    assert strict.method == "PUBLISH"


def test_commas_semicolons_newlines_and_accents_survive_the_round_trip() -> None:
    awkward = "Zoë; room 2, floor 3\nside door\\back — ½ café"
    event = consultation(summary=awkward, location=awkward, description=awkward)

    ics = build_invitation(event, "REQUEST")
    ours, strict = parse_both(ics)

    assert "Zoë\\; room 2\\, floor 3\\nside door\\\\back".encode() in ics
    for parsed in (ours.events[0], strict.events[0]):
        assert parsed.summary == awkward
        assert parsed.location == awkward
        assert parsed.description == awkward


def test_a_name_with_quotes_or_commas_stays_one_parameter() -> None:
    attendee = Attendee("zoe@example.com", 'Zoë "Z" O\'Neil, Jr.; PhD')
    ics = build_invitation(consultation(attendees=(attendee,)), "REQUEST")
    _, strict = parse_both(ics)

    [parsed] = strict.events[0].attendees
    assert parsed.uri == "mailto:zoe@example.com"
    assert parsed.common_name == "Zoë 'Z' O'Neil, Jr.; PhD"


def test_long_lines_are_folded_at_75_octets_without_splitting_a_character() -> None:
    description = ("Bring anything you would like to share. " * 8) + "Zoë café " * 30
    ics = build_invitation(consultation(description=description), "REQUEST")

    lines = physical_lines(ics)
    assert max(len(line) for line in lines) == 75
    assert all(len(line) <= 75 for line in lines)
    continuations = [line for line in lines if line.startswith(b" ")]
    assert len(continuations) > 5
    for line in lines:
        line.decode("utf-8")  # a fold never cuts a multi-byte character in two
    _, strict = parse_both(ics)
    assert strict.events[0].description == description
