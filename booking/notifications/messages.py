"""Emails about a consultation: rendered from templates/email/, composed as MIME messages.

One builder for every email the service sends. What an email may say is bounded by
`EmailContext`: it has no field for intake answers or safety flags, so no template can show
them. Therapists get no manage or intake link; only the second partner gets an intake link,
except in a `new_link` email, which carries the one link just renewed to its own holder. The
practice's own notices (`PracticeNotice`) carry a booking reference and a time, and nothing
else: the practice looks the booking up by its reference.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from booking.core.timezones import zone
from booking.scheduling.wording import MODE_LABELS, clock, long_date, mode_label

Kind = Literal[
    "invitation",
    "update",
    "cancellation",
    "reminder",
    "reassigned",
    "new_link",
    "payment_refunded",
    "deposit_refunded",
]
RecipientRole = Literal["booker", "partner", "therapist"]
# The emails about the consultation that every recipient, the therapist too, may receive.
# "reassigned": the couple's consultation is now with another therapist (REQUEST), and the
# therapist it left has it removed (CANCEL).
KINDS: tuple[Kind, ...] = ("invitation", "update", "cancellation", "reminder", "reassigned")
# The emails only the couple receives: a renewed link goes to its holder alone, and the word
# that a payment which came too late, or a deposit the practice gave back, was refunded to the
# booker who paid it.
COUPLE_KINDS: tuple[Kind, ...] = ("new_link", "payment_refunded", "deposit_refunded")
RECIPIENT_ROLES: tuple[RecipientRole, ...] = get_args(RecipientRole)
# What the practice hears: an intake needs its follow-up, or such a booking moved or ended.
NoticeKind = Literal["safety_alert", "flagged_change"]
NOTICE_KINDS: tuple[NoticeKind, ...] = get_args(NoticeKind)
NOTICE_TEMPLATE = "practice_notice"

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "email"
ICS_FILENAME = "invite.ics"
TEXT_WIDTH = 76


@dataclass(frozen=True)
class EmailContext:
    """Everything an email template may show, and nothing more."""

    kind: Kind
    recipient_name: str
    recipient_role: RecipientRole
    practice_name: str
    practice_address: str
    therapist_name: str
    consultation_name: str
    duration_minutes: int
    starts_at: datetime
    timezone_name: str
    mode: str
    location_text: str
    manage_url: str | None = None
    intake_url: str | None = None
    couple_names: str | None = None
    # What happens to the deposit, in plain words with its amount (a partner's email only).
    deposit_outcome: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS + COUPLE_KINDS:
            raise ValueError(
                f"kind must be one of {', '.join(KINDS + COUPLE_KINDS)}, not {self.kind!r}"
            )
        if self.recipient_role not in RECIPIENT_ROLES:
            raise ValueError(
                f"recipient_role must be one of {', '.join(RECIPIENT_ROLES)}, "
                f"not {self.recipient_role!r}"
            )
        if self.mode not in MODE_LABELS:
            raise ValueError(f"mode must be one of {', '.join(MODE_LABELS)}, not {self.mode!r}")
        if self.starts_at.tzinfo is None or self.starts_at.utcoffset() is None:
            raise ValueError("starts_at must be an aware datetime")
        zone(self.timezone_name)  # a ValueError for anything that is not an IANA zone
        if self.duration_minutes <= 0:
            raise ValueError("duration_minutes must be positive")
        # Links carry authority: a manage link lets its holder move or cancel, an intake link
        # opens one partner's private questionnaire. Refuse to address them to the wrong person.
        if self.recipient_role == "therapist" and self.manage_url is not None:
            raise ValueError("a therapist's email carries no manage link")
        if self.recipient_role == "therapist" and self.kind in COUPLE_KINDS:
            raise ValueError(f"a therapist is not sent a {self.kind} email")
        own_renewed_link = self.kind == "new_link" and self.recipient_role == "booker"
        if (
            self.recipient_role != "partner"
            and self.intake_url is not None
            and not own_renewed_link
        ):
            raise ValueError("only the second partner's email carries an intake link")
        if self.recipient_role == "therapist" and self.deposit_outcome is not None:
            raise ValueError("a therapist's email says nothing of the couple's deposit")
        if self.kind in ("payment_refunded", "deposit_refunded") and not self.deposit_outcome:
            raise ValueError(f"a {self.kind} email says what was refunded (deposit_outcome)")
        if self.recipient_role == "therapist" and not self.couple_names:
            raise ValueError("a therapist's email names the couple (couple_names)")


@dataclass(frozen=True)
class PracticeNotice:
    """Everything a notice to the practice may show: which booking (its reference, which the
    practice looks up) and when. No names, no answers, no reason: those stay with the booking."""

    kind: NoticeKind
    practice_name: str
    reference: str
    starts_at: datetime
    timezone_name: str
    # For a flagged_change: "moved" or "cancelled".
    change: Literal["", "moved", "cancelled"] = ""

    def __post_init__(self) -> None:
        if self.kind not in NOTICE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(NOTICE_KINDS)}, not {self.kind!r}")
        if (self.kind == "flagged_change") != bool(self.change):
            raise ValueError("a flagged_change, and only it, says what changed")
        if self.starts_at.tzinfo is None or self.starts_at.utcoffset() is None:
            raise ValueError("starts_at must be an aware datetime")
        zone(self.timezone_name)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def location_text(mode: str, *, practice_address: str, video_url: str, phone: str) -> str:
    """Where the consultation happens, as the invitation's LOCATION and the email say it."""
    if mode == "in_person":
        return practice_address
    if mode == "video":
        return video_url
    if mode == "phone":
        return f"We will call you at {phone}"
    raise ValueError(f"mode must be one of {', '.join(MODE_LABELS)}, not {mode!r}")


def render_email(context: EmailContext, templates_dir: Path | None = None) -> RenderedEmail:
    """Subject, plain text and HTML for `context`, from `<kind>.subject.txt|.txt|.html`."""
    environment = _environment((templates_dir or TEMPLATES_DIR).resolve())
    variables = _variables(context)

    def render(suffix: str) -> str:
        return environment.get_template(f"{context.kind}.{suffix}").render(variables)

    return RenderedEmail(
        subject=" ".join(render("subject.txt").split()),
        text=_tidy_text(render("txt")),
        html=render("html"),
    )


def render_practice_notice(
    notice: PracticeNotice, templates_dir: Path | None = None
) -> RenderedEmail:
    """Subject, plain text and HTML of a notice to the practice (`practice_notice.*`)."""
    environment = _environment((templates_dir or TEMPLATES_DIR).resolve())
    starts_at = notice.starts_at.astimezone(zone(notice.timezone_name))
    variables = {
        **asdict(notice),
        "starts_at": starts_at,
        "zone_label": f"{notice.timezone_name.replace('_', ' ')} time",
    }

    def render(suffix: str) -> str:
        return environment.get_template(f"{NOTICE_TEMPLATE}.{suffix}").render(variables)

    return RenderedEmail(
        subject=" ".join(render("subject.txt").split()),
        text=_tidy_text(render("txt")),
        html=render("html"),
    )


def message_id_for(dedupe_key: str, domain: str) -> str:
    """A Message-ID derived from the outbox key, so a resend of the same email keeps it."""
    if not domain or any(c.isspace() or c in "<>@" for c in domain):
        raise ValueError(f"not a domain: {domain!r}")
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def compose_message(
    *,
    sender: Address,
    reply_to: Address | None,
    to: Address,
    rendered: RenderedEmail,
    ics: bytes | None,
    method: str | None,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """The MIME message: text and HTML alternatives; with `ics`, also a text/calendar
    alternative (its `method` parameter equal to the ics METHOD) and an `invite.ics`
    attachment, the whole wrapped in multipart/mixed. Without `ics`, multipart/alternative.
    """
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be an aware datetime")
    message = EmailMessage(policy=SMTP)
    # The policy refuses CR or LF in any header value, so no header can be injected; an
    # Address is written with its display name quoted, so a name cannot add an address.
    message["From"] = sender
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"

    message.set_content(rendered.text, cte=_text_cte(rendered.text))
    message.add_alternative(rendered.html, subtype="html", cte=_text_cte(rendered.html))
    if ics is not None:
        ics_method = _ics_method(ics)
        if method is not None and method.upper() != ics_method:
            raise ValueError(f"method {method!r} differs from the calendar's METHOD:{ics_method}")
        ics_text = ics.decode("utf-8")
        message.add_alternative(
            ics_text, subtype="calendar", params={"method": ics_method}, cte=_text_cte(ics_text)
        )
        # Some clients (older Outlook, several webmails) only offer "add to calendar" for an
        # attached file, so the same calendar also travels as an attachment.
        message.add_attachment(ics, maintype="application", subtype="ics", filename=ICS_FILENAME)
    elif method is not None:
        raise ValueError("method is given but there is no calendar")
    return message


@cache
def _environment(templates_dir: Path) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(
            enabled_extensions=("html",), default_for_string=False, default=False
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(long_date=long_date, clock=clock, mode_label=mode_label)
    return environment


def _variables(context: EmailContext) -> dict[str, Any]:
    starts_at = context.starts_at.astimezone(zone(context.timezone_name))
    ends_at = starts_at + timedelta(minutes=context.duration_minutes)
    words = context.recipient_name.split()
    is_link = context.location_text.startswith(("https://", "http://"))
    return {
        **asdict(context),
        "first_name": words[0] if words else context.recipient_name,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "zone_label": f"{context.timezone_name.replace('_', ' ')} time",
        "video_href": context.location_text if context.mode == "video" and is_link else None,
        "is_couple": context.recipient_role in ("booker", "partner"),
    }


def _tidy_text(text: str) -> str:
    """Wrap each line of the plain text at TEXT_WIDTH (templates write one paragraph per line),
    never breaking a link, and collapse runs of blank lines."""
    lines = [_wrap(line.rstrip()) for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _wrap(line: str) -> str:
    if len(line) <= TEXT_WIDTH:
        return line
    # "When: ..." continues under its value, an indented line under its own indent.
    label = re.match(r"\s*(?:[A-Z][a-z]*:\s+)?", line)
    indent = " " * (label.end() if label else 0)
    return textwrap.fill(
        line,
        width=TEXT_WIDTH,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _text_cte(content: str) -> str | None:
    # The SMTP policy would pick 8bit for non-ASCII text, which a server without 8BITMIME
    # cannot carry; quoted-printable keeps every part 7-bit clean.
    return None if content.isascii() else "quoted-printable"


def _ics_method(ics: bytes) -> str:
    found = re.search(rb"^METHOD:([A-Za-z-]+)\r?$", ics, re.MULTILINE)
    if found is None:
        raise ValueError("the calendar has no METHOD")
    return found.group(1).decode("ascii").upper()
