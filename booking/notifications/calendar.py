"""Calendar files for consultations: iTIP invitations (RFC 5546) and a subscription feed.

Times are written in UTC (`DTSTART:...Z`), so no VTIMEZONE is needed; calendar apps show them
in each reader's own zone. One booking is one VEVENT whose UID never changes: a reschedule is
the same UID with a higher SEQUENCE, a cancellation is METHOD:CANCEL with STATUS:CANCELLED.
The output is a pure function of its input (no generated UIDs, no clock), so a retried send
produces the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from icalendar import STATUS, TRANSP, Calendar, Event, vCalAddress, vDuration

PRODID = "-//booking//Couples consultation booking//EN"
FEED_REFRESH = timedelta(hours=1)

Method = Literal["REQUEST", "CANCEL", "PUBLISH"]
METHODS: tuple[Method, ...] = ("REQUEST", "CANCEL", "PUBLISH")
ROLES = ("CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT", "NON-PARTICIPANT")


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str
    role: str = "REQ-PARTICIPANT"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"attendee role must be one of {', '.join(ROLES)}, not {self.role!r}")
        _check_email(self.email)


@dataclass(frozen=True)
class ConsultationEvent:
    """One booking as calendars see it; `uid` is stable for the booking's whole life."""

    uid: str
    sequence: int
    cancelled: bool
    starts_at: datetime
    ends_at: datetime
    summary: str
    description: str
    location: str
    organizer_email: str
    organizer_name: str
    attendees: tuple[Attendee, ...]
    stamp: datetime
    url: str | None = None

    def __post_init__(self) -> None:
        for field in ("starts_at", "ends_at", "stamp"):
            value: datetime = getattr(self, field)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{field} must be an aware datetime, not {value!r}")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.sequence < 0:
            raise ValueError("sequence starts at 0")
        if not self.uid or any(c in self.uid for c in "\r\n"):
            raise ValueError(f"uid must be a non-empty single line, not {self.uid!r}")
        _check_email(self.organizer_email)


def booking_uid(reference: str, domain: str) -> str:
    """The UID of a booking's event: the same for every invitation, update and cancellation."""
    return f"booking-{reference}@{domain}"


def build_invitation(event: ConsultationEvent, method: Method) -> bytes:
    """An iTIP message for one booking: REQUEST to invite or move, CANCEL to remove, PUBLISH
    for a plain "add to my calendar" file (which, per RFC 5546 §3.2.1, lists no attendees).

    A PUBLISH of a cancelled event (the manage page's file after a cancellation) carries
    STATUS:CANCELLED, so a calendar that imported it drops it. Raises ValueError for a
    contradiction: a REQUEST of a cancelled event.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if method == "REQUEST" and event.cancelled:
        raise ValueError("a cancelled event is sent with METHOD:CANCEL, not REQUEST")
    calendar = _calendar(method)
    calendar.add_component(_vevent(event, method, with_attendees=method != "PUBLISH"))
    return _serialize(calendar)


def build_feed(name: str, events: Sequence[ConsultationEvent]) -> bytes:
    """A subscription feed (METHOD:PUBLISH) of `events`, with no attendee addresses.

    Cancelled events stay in the feed with STATUS:CANCELLED so subscribers drop them.
    """
    calendar = _calendar("PUBLISH")
    calendar.calendar_name = name
    # RFC 7986 requires the VALUE parameter on REFRESH-INTERVAL; X-PUBLISHED-TTL is the
    # older Microsoft extension that Outlook reads.
    calendar.add("REFRESH-INTERVAL", vDuration(FEED_REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(FEED_REFRESH))
    for event in events:
        calendar.add_component(_vevent(event, "PUBLISH", with_attendees=False))
    return _serialize(calendar)


def _calendar(method: Method) -> Calendar:
    # Built by hand rather than with Calendar.new(), which adds a random calendar UID.
    calendar = Calendar()
    calendar.prodid = PRODID
    calendar.version = "2.0"
    calendar.calscale = "GREGORIAN"
    calendar.method = method
    return calendar


def _serialize(calendar: Calendar) -> bytes:
    # to_ical() escapes text, folds lines at 75 octets and ends them with CRLF.
    data: bytes = calendar.to_ical()
    return data


def _vevent(event: ConsultationEvent, method: Method, *, with_attendees: bool) -> Event:
    cancelled = event.cancelled or method == "CANCEL"
    attendees = (
        [_attendee(a, rsvp=method == "REQUEST") for a in event.attendees] if with_attendees else []
    )
    return Event.new(
        uid=event.uid,
        sequence=event.sequence,
        stamp=event.stamp.astimezone(UTC),
        start=event.starts_at.astimezone(UTC),
        end=event.ends_at.astimezone(UTC),
        summary=event.summary,
        description=event.description,
        location=event.location,
        organizer=vCalAddress.new(event.organizer_email, cn=_param(event.organizer_name)),
        attendees=attendees,
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        transparency=TRANSP.OPAQUE,
        url=event.url,
    )


def _attendee(attendee: Attendee, *, rsvp: bool) -> vCalAddress:
    if rsvp:
        return vCalAddress.new(
            attendee.email,
            cn=_param(attendee.name),
            role=attendee.role,
            partstat="NEEDS-ACTION",
            rsvp=True,
        )
    return vCalAddress.new(attendee.email, cn=_param(attendee.name), role=attendee.role)


def _param(value: str) -> str:
    """A parameter value (CN) cannot hold a double quote or a control character (RFC 5545
    §3.1: param-value is quoted-string or paramtext, neither of which allows DQUOTE)."""
    cleaned = "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in value)
    return " ".join(cleaned.replace('"', "'").split())


def _check_email(address: str) -> None:
    if "@" not in address or any(c.isspace() or c in '<>"' for c in address):
        raise ValueError(f"not a plain email address: {address!r}")
