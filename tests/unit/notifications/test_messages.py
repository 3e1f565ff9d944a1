"""Emails: what each recipient reads, what they must never read, and the MIME they arrive in."""

from __future__ import annotations

import email.policy
import re
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from ical.calendar_stream import IcsCalendarStream

from booking.notifications.calendar import (
    Attendee,
    ConsultationEvent,
    booking_uid,
    build_invitation,
)
from booking.notifications.messages import (
    KINDS,
    RECIPIENT_ROLES,
    EmailContext,
    PracticeNotice,
    RenderedEmail,
    compose_message,
    location_text,
    message_id_for,
    render_email,
    render_practice_notice,
)

START = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # 9:30 a.m. in Toronto
MANAGE_URL = "https://book.example.org/manage/m-token"
INTAKE_URL = "https://book.example.org/intake/p-token"
VIDEO_URL = "https://video.example.org/room/maya"
ADDRESS = "12 King St W, Suite 300, Toronto"


def context(role: str = "booker", kind: str = "invitation", **changes: Any) -> EmailContext:
    values: dict[str, Any] = {
        "kind": kind,
        "recipient_name": {"booker": "Ann Lee", "partner": "Bo Martin", "therapist": "Maya Chen"}[
            role
        ],
        "recipient_role": role,
        "practice_name": "Harbour Couples Practice",
        "practice_address": ADDRESS,
        "therapist_name": "Dr Maya Chen",
        "consultation_name": "First consultation",
        "duration_minutes": 50,
        "starts_at": START,
        "timezone_name": "America/Toronto",
        "mode": "in_person",
        "location_text": ADDRESS,
        "manage_url": None if role == "therapist" else MANAGE_URL,
        "intake_url": INTAKE_URL if role == "partner" else None,
        "couple_names": "Ann Lee and Bo Martin" if role == "therapist" else None,
    }
    values.update(changes)
    return EmailContext(**values)


def invitation_ics(method: str = "REQUEST", sequence: int = 0) -> bytes:
    event = ConsultationEvent(
        uid=booking_uid("K7P2QX", "book.example.org"),
        sequence=sequence,
        cancelled=method == "CANCEL",
        starts_at=START,
        ends_at=START + timedelta(minutes=50),
        summary="First consultation with Dr Maya Chen",
        description="Zoë; room 2, floor 3",
        location=ADDRESS,
        organizer_email="bookings@practice.example.org",
        organizer_name="Harbour Couples Practice",
        attendees=(Attendee("ann@example.com", "Ann Lee"),),
        stamp=START - timedelta(days=3),
    )
    return build_invitation(event, method)  # type: ignore[arg-type]


def compose(
    rendered: RenderedEmail | None = None,
    ics: bytes | None = None,
    method: str | None = None,
    **changes: Any,
) -> EmailMessage:
    arguments: dict[str, Any] = {
        "sender": "Harbour Couples Practice <bookings@practice.example.org>",
        "reply_to": "hello@practice.example.org",
        "to": "Zoë Lee <zoe@example.com>",
        "rendered": rendered or render_email(context()),
        "ics": ics,
        "method": method,
        "message_id": message_id_for("invitation:K7P2QX:0:ann", "practice.example.org"),
        "date": START - timedelta(days=3),
    }
    arguments.update(changes)
    return compose_message(**arguments)


def reparse(message: EmailMessage) -> EmailMessage:
    parsed = BytesParser(policy=email.policy.default).parsebytes(message.as_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def body(part: EmailMessage) -> str:
    content = part.get_content()
    return content if isinstance(content, str) else content.decode()


# --- what each recipient reads ---------------------------------------------------------------


@pytest.mark.parametrize("role", RECIPIENT_ROLES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_complete_for_every_recipient(kind: str, role: str) -> None:
    rendered = render_email(context(role, kind))

    assert rendered.subject
    assert "\n" not in rendered.subject
    first_name = {"booker": "Ann", "partner": "Bo", "therapist": "Maya"}[role]
    for output in (rendered.text, rendered.html):
        assert f"Hello {first_name}," in output
        assert "Dr Maya Chen" in output
        assert "First consultation" in output
        assert "Tuesday 1 December 2026" in output
        assert "9:30 a.m." in output
        assert "10:20 a.m." in output
        assert "America/Toronto time" in output
        assert "50 minutes" in output
        assert ADDRESS in output
        assert "Harbour Couples Practice" in output
        assert "911" in output
        assert "not therapy" in output
        for leftover in ("{{", "}}", "{%", "None", "Undefined"):
            assert leftover not in output
    assert rendered.text.endswith("\n")
    assert "<" not in rendered.text
    assert rendered.html.lstrip().startswith("<!doctype html>")
    assert '<html lang="en">' in rendered.html


@pytest.mark.parametrize("kind", KINDS)
def test_the_therapist_reads_the_couples_names_and_where_the_answers_are(kind: str) -> None:
    rendered = render_email(context("therapist", kind))

    assert "Ann Lee and Bo Martin" in rendered.subject
    assert "Ann Lee and Bo Martin" in rendered.text
    if kind != "cancellation":
        assert "The practice keeps the couple's intake answers" in rendered.text
        assert "The practice keeps the couple's intake answers" in rendered.html
    # No staff area exists yet: no email promises one.
    assert "staff" not in (rendered.text + rendered.html).lower()


@pytest.mark.parametrize("kind", ["invitation", "update", "reminder"])
def test_the_couple_can_move_or_cancel_from_either_email(kind: str) -> None:
    for role in ("booker", "partner"):
        rendered = render_email(context(role, kind))

        assert MANAGE_URL in rendered.text
        assert f'href="{MANAGE_URL}"' in rendered.html
        assert "Either of you can move or cancel" in rendered.text


@pytest.mark.parametrize("kind", KINDS)
def test_only_the_second_partner_gets_the_intake_link(kind: str) -> None:
    partner = render_email(context("partner", kind))
    booker = render_email(context("booker", kind))

    if kind != "cancellation":
        assert INTAKE_URL in partner.text
        assert f'href="{INTAKE_URL}"' in partner.html
        assert "Your partner will not see your answers" in partner.text
        assert "Your partner will not see your answers" in partner.html
    for output in (booker.text, booker.html):
        assert "intake" not in output
        assert "will not see your answers" not in output


@pytest.mark.parametrize("kind", KINDS)
def test_the_therapist_gets_neither_manage_nor_intake_link(kind: str) -> None:
    rendered = render_email(context("therapist", kind))

    for output in (rendered.subject, rendered.text, rendered.html):
        assert "/manage/" not in output
        assert "/intake/" not in output
        assert "move or cancel" not in output


def test_a_link_cannot_be_addressed_to_the_wrong_recipient() -> None:
    with pytest.raises(ValueError, match="manage link"):
        context("therapist", manage_url=MANAGE_URL)
    with pytest.raises(ValueError, match="intake link"):
        context("therapist", intake_url=INTAKE_URL)
    with pytest.raises(ValueError, match="intake link"):
        context("booker", intake_url=INTAKE_URL)


def test_fields_that_do_not_apply_are_never_rendered() -> None:
    """A value in a field the recipient must not see (the intake link in a cancellation, the
    couple's names in a couple's own email) never reaches the output."""
    secret = "SENTINEL-7c1e"
    cases = [
        context("partner", "cancellation", intake_url=f"https://book.example.org/intake/{secret}"),
        context("booker", couple_names=secret),
        context("partner", "reminder", couple_names=secret),
    ]
    for case in cases:
        rendered = render_email(case)
        for output in (rendered.subject, rendered.text, rendered.html):
            assert secret not in output


def test_the_context_has_no_place_for_intake_answers_or_safety_flags() -> None:
    names = {f.name for f in fields(EmailContext)}

    assert not {n for n in names if re.search(r"answer|safety|flag|response|note", n)}
    with pytest.raises(TypeError):
        EmailContext(**{**vars(context()), "answers": {"trust": 3}})


def test_the_time_is_shown_in_the_recipients_own_zone() -> None:
    rendered = render_email(context(timezone_name="Europe/Paris"))

    assert "3:30 p.m. to 4:20 p.m." in rendered.text
    assert "Europe/Paris time" in rendered.text
    assert "Tuesday 1 December 2026" in rendered.subject


def test_a_time_just_after_midnight_is_on_the_recipients_date() -> None:
    rendered = render_email(context(starts_at=datetime(2026, 12, 2, 3, 0, tzinfo=UTC)))

    assert "Tuesday 1 December 2026, 10:00 p.m." in rendered.text


@pytest.mark.parametrize(
    ("mode", "expected_text", "expected_html"),
    [
        ("in_person", f"In person, at {ADDRESS}", f"In person, at {ADDRESS}"),
        ("video", f"By video: {VIDEO_URL}", f'href="{VIDEO_URL}"'),
        ("phone", "We will call you at +1 416 555 0100", "We will call you at +1 416 555 0100"),
    ],
)
def test_how_follows_the_mode(mode: str, expected_text: str, expected_html: str) -> None:
    where = location_text(
        mode, practice_address=ADDRESS, video_url=VIDEO_URL, phone="+1 416 555 0100"
    )
    rendered = render_email(context(mode=mode, location_text=where))

    assert expected_text in rendered.text
    assert expected_html in rendered.html


@pytest.mark.parametrize("kind", KINDS)
def test_plain_text_is_wrapped_for_reading_without_breaking_links(kind: str) -> None:
    long_name = "Dr Maya Chen-Rodríguez de la Fuente"
    rendered = render_email(context("partner", kind, therapist_name=long_name))

    for line in rendered.text.splitlines():
        assert len(line) <= 76 or ("://" in line and " " not in line)
    if kind != "cancellation":
        assert f"\n{INTAKE_URL}\n" in rendered.text


def test_names_are_escaped_in_html_and_kept_in_text() -> None:
    hostile = '<script>alert("x")</script> & Co'
    rendered = render_email(context("therapist", couple_names=hostile, therapist_name=hostile))

    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in rendered.html
    assert hostile in rendered.text
    assert hostile in rendered.subject


def test_a_newline_in_a_name_cannot_break_the_subject() -> None:
    rendered = render_email(context(therapist_name="Dr Maya\r\nBcc: x@evil.example"))

    assert "\n" not in rendered.subject
    assert "\r" not in rendered.subject


def test_the_context_refuses_unknown_kinds_roles_modes_and_naive_times() -> None:
    with pytest.raises(ValueError, match="kind"):
        context(kind="invoice")
    with pytest.raises(ValueError, match="recipient_role"):
        replace(context(), recipient_role="admin")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode"):
        context(mode="carrier_pigeon")
    with pytest.raises(ValueError, match="aware"):
        context(starts_at=datetime(2026, 12, 1, 9, 30))
    with pytest.raises(ValueError, match="time zone"):
        context(timezone_name="Mars/Olympus_Mons")


# --- the MIME message ------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "sequence"), [("REQUEST", 0), ("REQUEST", 1), ("CANCEL", 2)])
def test_an_invitation_is_mixed_alternative_with_calendar_and_attachment(
    method: str, sequence: int
) -> None:
    ics = invitation_ics(method, sequence)
    kind = "cancellation" if method == "CANCEL" else "update" if sequence else "invitation"
    rendered = render_email(context("booker", kind))

    message = reparse(compose(rendered, ics=ics, method=method))

    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert isinstance(alternative, EmailMessage)
    assert isinstance(attachment, EmailMessage)
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, calendar = alternative.iter_parts()
    assert isinstance(plain, EmailMessage)
    assert isinstance(html, EmailMessage)
    assert isinstance(calendar, EmailMessage)
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == method
    assert calendar.get_content_charset() == "utf-8"
    # On the wire every line ends in CRLF; the parser hands the bodies back that way.
    assert body(plain).replace("\r\n", "\n") == rendered.text
    assert body(html).replace("\r\n", "\n") == rendered.html
    assert body(calendar) == ics.decode()
    assert IcsCalendarStream.calendar_from_ics(body(calendar)).method == method

    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content() == ics


def test_the_headers_identify_an_automatic_message() -> None:
    rendered = render_email(context())
    message = reparse(compose(rendered, ics=invitation_ics(), method="REQUEST"))

    assert message["From"] == "Harbour Couples Practice <bookings@practice.example.org>"
    assert message["To"] == "Zoë Lee <zoe@example.com>"
    assert message["Reply-To"] == "hello@practice.example.org"
    # A subject longer than one line is folded before its first word; Python's parser keeps
    # the fold's space, which RFC 5322 unfolding (and every mail client) drops.
    assert message["Subject"].lstrip() == rendered.subject
    assert message["Date"].datetime == START - timedelta(days=3)
    assert message["Message-ID"] == message_id_for(
        "invitation:K7P2QX:0:ann", "practice.example.org"
    )
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["MIME-Version"] == "1.0"


def test_without_a_reply_to_there_is_no_reply_to_header() -> None:
    message = reparse(compose(reply_to=None))

    assert "Reply-To" not in message


def test_the_wire_format_is_seven_bit_with_crlf_and_short_lines() -> None:
    rendered = render_email(context(recipient_name="Zoë Lee", therapist_name="Dr Zoë Müller"))
    raw = compose(rendered, ics=invitation_ics(), method="REQUEST").as_bytes()

    assert raw.isascii()  # non-ASCII travels quoted-printable or base64, never raw 8-bit
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert "Dr Zoë Müller" in parsed["Subject"]


def test_a_reminder_without_a_calendar_is_just_text_and_html() -> None:
    rendered = render_email(context(kind="reminder"))
    message = reparse(compose(rendered))

    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert not any(p.get_content_disposition() == "attachment" for p in message.walk())


def test_the_method_parameter_must_match_the_calendar() -> None:
    with pytest.raises(ValueError, match="METHOD:CANCEL"):
        compose(ics=invitation_ics("CANCEL", 1), method="REQUEST")
    with pytest.raises(ValueError, match="no calendar"):
        compose(method="REQUEST")


def test_the_method_parameter_defaults_to_the_calendars_method() -> None:
    message = reparse(compose(ics=invitation_ics("CANCEL", 1), method=None))

    calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
    assert calendar.get_param("method") == "CANCEL"


def test_a_header_cannot_be_injected_through_an_address() -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is the standard library's
        compose(to="zoe@example.com\r\nBcc: everyone@example.com")


def test_a_naive_date_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        compose(date=datetime(2026, 12, 1, 9, 30))


def test_the_message_id_follows_the_dedupe_key() -> None:
    first = message_id_for("invitation:K7P2QX:0:ann", "practice.example.org")

    assert first == message_id_for("invitation:K7P2QX:0:ann", "practice.example.org")
    assert first != message_id_for("invitation:K7P2QX:1:ann", "practice.example.org")
    assert re.fullmatch(r"<[0-9a-f]{40}@practice\.example\.org>", first)
    with pytest.raises(ValueError, match="domain"):
        message_id_for("key", "bad domain>")


# --- renewed links and the practice's notices ------------------------------------------------


@pytest.mark.parametrize("role", ["booker", "partner"])
def test_a_renewed_manage_link_carries_that_link_alone(role: str) -> None:
    rendered = render_email(context(role, "new_link", intake_url=None))

    assert "no longer works" in rendered.text
    assert MANAGE_URL in rendered.text
    assert f'href="{MANAGE_URL}"' in rendered.html
    for output in (rendered.subject, rendered.text, rendered.html):
        assert "/intake/" not in output
    assert "<" not in rendered.text


@pytest.mark.parametrize("role", ["booker", "partner"])
def test_a_renewed_intake_link_goes_to_its_own_partner_alone(role: str) -> None:
    rendered = render_email(context(role, "new_link", manage_url=None, intake_url=INTAKE_URL))

    assert "no longer works" in rendered.text
    assert f"\n{INTAKE_URL}\n" in rendered.text
    assert f'href="{INTAKE_URL}"' in rendered.html
    for output in (rendered.subject, rendered.text, rendered.html):
        assert "/manage/" not in output


def test_a_therapist_is_never_sent_a_renewed_link() -> None:
    with pytest.raises(ValueError, match="new_link"):
        context("therapist", "new_link")


def notice(**changes: Any) -> PracticeNotice:
    values: dict[str, Any] = {
        "kind": "safety_alert",
        "practice_name": "Harbour Couples Practice",
        "reference": "K7P2-QX4M",
        "starts_at": START,
        "timezone_name": "America/Toronto",
    }
    values.update(changes)
    return PracticeNotice(**values)


@pytest.mark.parametrize(
    ("kind", "change", "subject"),
    [
        ("safety_alert", "", "Intake follow-up: booking K7P2-QX4M"),
        ("flagged_change", "moved", "Intake follow-up: booking K7P2-QX4M moved"),
        ("flagged_change", "cancelled", "Intake follow-up: booking K7P2-QX4M cancelled"),
    ],
)
def test_a_practice_notice_names_the_booking_and_its_time_only(
    kind: str, change: str, subject: str
) -> None:
    rendered = render_practice_notice(notice(kind=kind, change=change))

    assert rendered.subject == subject
    for output in (rendered.text, rendered.html):
        assert "K7P2-QX4M" in output
        assert "look the booking up by its reference" in output
        assert "Tuesday 1 December 2026, 9:30 a.m." in output
        # It points to no page: the staff area it could open does not exist yet.
        for promise in ("staff", "http", "sign"):
            assert promise not in output.lower()
        for hint in ("safe", "harm", "partner", "flag", "Hello", "{{", "None"):
            assert hint not in output
    assert "<" not in rendered.text


def test_a_practice_notice_has_no_place_for_names_or_answers() -> None:
    names = {f.name for f in fields(PracticeNotice)}

    assert names == {
        "kind",
        "practice_name",
        "reference",
        "starts_at",
        "timezone_name",
        "change",
    }
    with pytest.raises(ValueError, match="kind"):
        notice(kind="invoice")
    with pytest.raises(ValueError, match="says what changed"):
        notice(kind="flagged_change")
