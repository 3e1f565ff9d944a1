"""What the review's pages take from a query or a form: the queue's and the audit log's
filters, a time offered for a reassignment, and the labels that name each field in a
problem. Every malformed value is named at once, as the other staff forms do."""

from __future__ import annotations

from datetime import date, datetime

from booking.core.audit import Actor
from booking.core.errors import FieldError, ValidationFailed
from booking.staff.accounts import find_account
from booking.staff.audit_log import AuditFilter
from booking.staff.queue import QueueFilter, ReviewStatus
from booking.web.forms import first

QUEUE_LABELS = {
    "status": "Status",
    "therapist": "Therapist",
    "flag": "Safety follow-up",
    "first": "From",
    "last": "To",
    "page": "Page",
}
# The queue's filters a link to another page or status keeps.
FILTERS = ("status", "therapist", "flag", "first", "last")
AUDIT_LABELS = {
    "booking": "Booking reference",
    "actor": "Who",
    "action": "Action",
    "first": "From",
    "last": "To",
}
NOTE_LABELS = {"text": "Note"}
ERASE_LABELS = {"confirm": "The booking's reference"}


def problems_of(exc: ValidationFailed) -> list[FieldError]:
    """The refusal's problems; its message alone when it names no field."""
    return list(exc.fields) or [FieldError("", exc.message)]


def parse_instant(value: str) -> datetime:
    """A time posted by the page's own form (ISO 8601 with its offset)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed.on("start", "Choose one of the times offered.")
    return parsed


def _date(values: dict[str, list[str]], name: str, problems: list[FieldError]) -> date | None:
    raw = first(values, name).strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(FieldError(name, "Give the date in the form YYYY-MM-DD."))
        return None


def queue_filters(values: dict[str, list[str]]) -> tuple[QueueFilter, int]:
    """The queue's filters from its query, every malformed value named at once."""
    problems: list[FieldError] = []
    status: ReviewStatus | None = None
    raw_status = first(values, "status").strip()
    if raw_status:
        try:
            status = ReviewStatus(raw_status)
        except ValueError:
            problems.append(FieldError("status", "Choose one of the statuses listed."))
    flag = {"": None, "yes": True, "no": False}.get(first(values, "flag").strip())
    if first(values, "flag").strip() not in ("", "yes", "no"):
        problems.append(FieldError("flag", "Choose yes, no, or either."))
    first_day, last_day = _date(values, "first", problems), _date(values, "last", problems)
    page = 1
    raw_page = first(values, "page").strip()
    if raw_page:
        if raw_page.isdigit() and 1 <= int(raw_page) <= 100_000:
            page = int(raw_page)
        else:
            problems.append(FieldError("page", "Pages are numbered from 1."))
    if problems:
        raise ValidationFailed(problems[0].message, problems)
    therapist = first(values, "therapist").strip() or None
    return QueueFilter(status, therapist, flag, first_day, last_day), page


async def audit_filters(values: dict[str, list[str]]) -> AuditFilter:
    """The audit log's filters from its query; a member of staff is named by their email."""
    problems: list[FieldError] = []
    actor = first(values, "actor").strip() or None
    if actor and "@" in actor:
        account = await find_account(email=actor)
        if account is None:
            problems.append(FieldError("actor", "No staff account has this email."))
        else:
            actor = Actor.staff(account.id).label
    first_day, last_day = _date(values, "first", problems), _date(values, "last", problems)
    if problems:
        raise ValidationFailed(problems[0].message, problems)
    return AuditFilter(
        actor=actor,
        booking=first(values, "booking").strip() or None,
        action=first(values, "action").strip() or None,
        first=first_day,
        last=last_day,
    )
