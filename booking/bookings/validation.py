"""Checking a booking request before any write: every problem reported at once, per field.

Messages never repeat what was submitted: intake answers are private, and so are names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email

from booking.bookings.ports import IntakeScreen, ScreenedIntake
from booking.bookings.schemas import BookingIn, PartnerIn
from booking.core.errors import FieldError, NotFound, ValidationFailed
from booking.core.timezones import check_scheduling_instant, parse_zone, zone
from booking.scheduling.records import ConsultationTypeRecord, TherapistRecord
from booking.scheduling.services import AvailabilityService, load_type_row

NAME_MAX = 120
EMAIL_MAX = 254
PHONE_MAX = 40
PRONOUNS_MAX = 40
PHONE_PATTERN = re.compile(r"^[0-9+().\-\s]{3,40}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)
# A person's name travels into email headers and calendar parameters: characters that delimit
# addresses there, and anything that reads as an address or a link, have no place in it.
NAME_FORBIDDEN = frozenset('<>":;,@/\\')
NAME_LINK = re.compile(r"www\.|[^\W_]+(?:\.[^\W_]+)*\.[^\W\d_]{2,}\b", re.IGNORECASE)
NAME_RULE = (
    "Enter just the name: no email address or link, and none of these characters: "
    '< > " : ; , @ / \\'
)


@dataclass(frozen=True, slots=True)
class CleanPartner:
    name: str
    email: str
    phone: str
    pronouns: str


@dataclass(frozen=True, slots=True)
class CleanBooking:
    consultation_type: ConsultationTypeRecord
    therapist: TherapistRecord
    mode: str
    starts_at: datetime
    ends_at: datetime
    blocked_until: datetime
    partners: list[CleanPartner]
    intake: ScreenedIntake
    viewer_timezone: ZoneInfo


def parse_instant(value: str, field: str, now: datetime) -> datetime:
    """An RFC 3339 time with an explicit offset within SCHEDULING_REACH of `now`, or a 422
    naming the field."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed.on(
            field, "Give the time as RFC 3339 with its UTC offset, e.g. 2026-12-07T09:00:00-05:00."
        )
    return check_scheduling_instant(parsed, field, now)


async def validate_booking(
    data: BookingIn, availability: AvailabilityService, screen: IntakeScreen
) -> CleanBooking:
    """The request checked and normalised (its intake by `screen`), or one ValidationFailed
    listing every problem."""
    problems: list[FieldError] = []

    def collect(error: ValidationFailed) -> None:
        problems.extend(error.fields or [FieldError("body", error.message)])

    consultation_type: ConsultationTypeRecord | None = None
    therapist: TherapistRecord | None = None
    try:
        consultation_type = await load_type_row(data.consultation_type)
    except NotFound:
        problems.append(FieldError("consultation_type", "No such consultation type is offered."))
    if consultation_type is not None:
        try:
            offering = await availability.therapists_offering(consultation_type, data.therapist)
            therapist = offering[0]
        except (NotFound, ValidationFailed, IndexError):
            problems.append(
                FieldError("therapist", "This therapist does not offer this consultation.")
            )
    if therapist is not None and not therapist.accepting_new_couples:
        problems.append(FieldError("therapist", "This therapist is not taking new couples."))

    mode = _mode(data.mode, consultation_type, therapist, problems)
    starts_at: datetime | None = None
    try:
        starts_at = parse_instant(data.start, "start", availability.clock())
    except ValidationFailed as error:
        collect(error)

    viewer = zone(therapist.timezone) if therapist else zone("UTC")
    if data.timezone:
        try:
            viewer = parse_zone(data.timezone, "timezone")
        except ValidationFailed as error:
            collect(error)

    partners = _partners(data.partners, problems)
    if mode == "phone" and partners and not partners[0].phone:
        problems.append(FieldError("partners[0].phone", "Give a number for us to call you on."))

    intake, intake_problems = screen.screen(data.intake.couple, data.intake.booker, data.consents)
    problems.extend(intake_problems)

    if problems or consultation_type is None or therapist is None or starts_at is None:
        message = problems[0].message if len(problems) == 1 else "Some answers need attention."
        raise ValidationFailed(message, problems)

    duration = timedelta(minutes=consultation_type.duration_minutes)
    buffer = timedelta(minutes=consultation_type.buffer_after_minutes)
    return CleanBooking(
        consultation_type=consultation_type,
        therapist=therapist,
        mode=mode,
        starts_at=starts_at,
        ends_at=starts_at + duration,
        blocked_until=starts_at + duration + buffer,
        partners=partners,
        intake=intake,
        viewer_timezone=viewer,
    )


def _mode(
    chosen: str | None,
    consultation_type: ConsultationTypeRecord | None,
    therapist: TherapistRecord | None,
    problems: list[FieldError],
) -> str:
    if consultation_type is None or therapist is None:
        return chosen or ""
    offered = consultation_type.modes
    possible = [m for m in offered if m in therapist.modes] or list(offered)
    if chosen is None:
        return possible[0] if possible else ""
    if chosen not in possible:
        problems.append(
            FieldError("mode", "Choose one of the ways this consultation can take place.")
        )
    return chosen


def person_name_problem(name: str) -> str | None:
    """Why `name` cannot be a person's name in our emails and invitations, or None.

    Refuses the characters that delimit addresses in headers (`<`, `>`, `"`, `:`, `;`, `,`),
    any `@`, slashes, and anything shaped like a web address (`www.`, `example.org`).
    """
    if any(c in NAME_FORBIDDEN for c in name) or NAME_LINK.search(name):
        return NAME_RULE
    if any(unicodedata.category(c) == "Cc" for c in name):
        return NAME_RULE
    return None


def _partners(partners: list[PartnerIn], problems: list[FieldError]) -> list[CleanPartner]:
    if len(partners) != 2:
        problems.append(FieldError("partners", "Give both partners' names and emails."))
        return []
    clean: list[CleanPartner] = []
    for index, partner in enumerate(partners):
        prefix = f"partners[{index}]"
        name = " ".join(partner.name.split())
        if not name:
            problems.append(FieldError(f"{prefix}.name", "Enter a name."))
        elif len(name) > NAME_MAX:
            problems.append(FieldError(f"{prefix}.name", f"Use at most {NAME_MAX} characters."))
        elif (problem := person_name_problem(name)) is not None:
            problems.append(FieldError(f"{prefix}.name", problem))
        email = partner.email.strip()
        try:
            if len(email) > EMAIL_MAX:
                raise EmailNotValidError("too long")
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            problems.append(
                FieldError(f"{prefix}.email", "Enter a valid email address, like name@example.org.")
            )
        phone = (partner.phone or "").strip()
        if phone and (len(phone) > PHONE_MAX or not PHONE_PATTERN.match(phone)):
            problems.append(
                FieldError(f"{prefix}.phone", "Enter a phone number, or leave it empty.")
            )
        pronouns = " ".join((partner.pronouns or "").split())
        if len(pronouns) > PRONOUNS_MAX:
            problems.append(
                FieldError(f"{prefix}.pronouns", f"Use at most {PRONOUNS_MAX} characters.")
            )
        clean.append(CleanPartner(name=name, email=email, phone=phone, pronouns=pronouns))
    return clean
