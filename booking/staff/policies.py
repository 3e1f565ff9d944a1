"""People and policies as the admin keeps them: therapists' public profiles and zones, and
each consultation type with every policy of product.md (duration, buffer, notice, horizon,
daily cap, price and deposit, refund window, reschedule cut-off, payment hold).

A change names only the fields it sets; each is checked and every problem is named at once
(field by field, the form's own names). A saved change is one audit row naming the fields
changed (never their values) and is what the public directory and availability read from the
next request on: nothing is cached between them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from booking.core.audit import AuditAction
from booking.core.db import write_transaction
from booking.core.errors import FieldError, NotFound, ValidationFailed
from booking.core.timezones import Clock, zone
from booking.scheduling.records import (
    THERAPIST_COLUMNS,
    ConsultationTypeRecord,
    TherapistRecord,
)
from booking.scheduling.tables import ConsultationType, Therapist
from booking.scheduling.wording import CURRENCY_SYMBOLS, MODE_LABELS
from booking.staff.access import Origin, record, require_admin
from booking.staff.principal import StaffPrincipal

MINUTES_A_DAY = 24 * 60


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """What an admin changes of a therapist's public profile; None leaves a field as it is."""

    name: str | None = None
    credentials: str | None = None
    bio: str | None = None
    languages: tuple[str, ...] | None = None
    modes: tuple[str, ...] | None = None
    timezone: str | None = None
    accepting_new_couples: bool | None = None


@dataclass(frozen=True, slots=True)
class TypeChange:
    """What an admin changes of a consultation type; None leaves a field as it is. A price
    or deposit of 0 means none (`clear_daily_cap` removes the cap)."""

    name: str | None = None
    description: str | None = None
    duration_minutes: int | None = None
    slot_interval_minutes: int | None = None
    buffer_after_minutes: int | None = None
    min_notice_minutes: int | None = None
    horizon_days: int | None = None
    daily_cap: int | None = None
    clear_daily_cap: bool = False
    currency: str | None = None
    price_amount: int | None = None
    deposit_amount: int | None = None
    refund_window_hours: int | None = None
    reschedule_cutoff_hours: int | None = None
    payment_hold_minutes: int | None = None
    modes: tuple[str, ...] | None = None
    active: bool | None = None


# field: (lowest, highest, what it is, as the form says it)
TYPE_RANGES: dict[str, tuple[int, int, str]] = {
    "duration_minutes": (10, 8 * 60, "minutes"),
    "slot_interval_minutes": (5, 4 * 60, "minutes"),
    "buffer_after_minutes": (0, 4 * 60, "minutes"),
    "min_notice_minutes": (0, 30 * MINUTES_A_DAY, "minutes"),
    "horizon_days": (1, 730, "days"),
    "daily_cap": (1, 50, "consultations"),
    "refund_window_hours": (0, 60 * 24, "hours"),
    "reschedule_cutoff_hours": (0, 60 * 24, "hours"),
    "payment_hold_minutes": (5, 120, "minutes"),
    "price_amount": (0, 10_000_000, "cents"),
    "deposit_amount": (0, 10_000_000, "cents"),
}


_AMOUNT = re.compile(r"(\d{1,9})(?:[.,](\d{2}))?")


def type_change_from_text(
    values: Mapping[str, Sequence[str]],
) -> tuple[TypeChange, list[FieldError]]:
    """A consultation type's form as posted (text; amounts in major units such as `150` or
    `150.00`; an empty daily cap or amount: none; `modes` repeated; `active=1`) as a
    `TypeChange`, and the fields that are not numbers, for `update_type` to name with the
    problems it finds itself."""
    problems: list[FieldError] = []

    def text(name: str) -> str:
        given = values.get(name)
        return given[0] if given else ""

    def whole(name: str) -> int | None:
        typed = text(name).strip()
        if typed.isascii() and typed.isdigit():
            return int(typed)
        problems.append(FieldError(name, "Give a whole number."))
        return None

    def amount(name: str) -> int | None:
        typed = text(name).strip().lstrip("$€£").strip()
        if not typed:
            return 0
        found = _AMOUNT.fullmatch(typed)
        if found is None:
            problems.append(FieldError(name, "Give an amount such as 150 or 150.00."))
            return None
        return int(found.group(1)) * 100 + int(found.group(2) or 0)

    capped = bool(text("daily_cap").strip())
    change = TypeChange(
        name=text("name"),
        description=text("description"),
        duration_minutes=whole("duration_minutes"),
        slot_interval_minutes=whole("slot_interval_minutes"),
        buffer_after_minutes=whole("buffer_after_minutes"),
        min_notice_minutes=whole("min_notice_minutes"),
        horizon_days=whole("horizon_days"),
        daily_cap=whole("daily_cap") if capped else None,
        clear_daily_cap=not capped,
        currency=text("currency"),
        price_amount=amount("price_amount"),
        deposit_amount=amount("deposit_amount"),
        refund_window_hours=whole("refund_window_hours"),
        reschedule_cutoff_hours=whole("reschedule_cutoff_hours"),
        payment_hold_minutes=whole("payment_hold_minutes"),
        modes=tuple(values.get("modes", ())),
        active=text("active") == "1",
    )
    return change, problems


class PolicyService:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def therapists(self, principal: StaffPrincipal) -> list[TherapistRecord]:
        """Every therapist (listed in the directory or not), in the directory's order."""
        require_admin(principal)
        rows = await Therapist.select(*THERAPIST_COLUMNS).order_by(
            Therapist.position, Therapist.name
        )
        return [TherapistRecord.from_row(row) for row in rows]

    async def therapist(self, principal: StaffPrincipal, slug: str) -> TherapistRecord:
        require_admin(principal)
        row = await Therapist.select(*THERAPIST_COLUMNS).where(Therapist.slug == slug).first()
        if row is None:
            raise NotFound(f"No therapist '{slug}'.")
        return TherapistRecord.from_row(row)

    async def types(self, principal: StaffPrincipal) -> list[ConsultationTypeRecord]:
        """Every consultation type, offered or not."""
        require_admin(principal)
        rows = await ConsultationType.select().order_by(ConsultationType.name)
        return [ConsultationTypeRecord.from_row(row) for row in rows]

    async def consultation_type(
        self, principal: StaffPrincipal, slug: str
    ) -> ConsultationTypeRecord:
        require_admin(principal)
        row = await ConsultationType.select().where(ConsultationType.slug == slug).first()
        if row is None:
            raise NotFound(f"No consultation type '{slug}'.")
        return ConsultationTypeRecord.from_row(row)

    async def update_profile(
        self,
        principal: StaffPrincipal,
        slug: str,
        change: ProfileChange,
        origin: Origin = Origin(),  # noqa: B008 (frozen: one shared default is safe)
    ) -> TherapistRecord:
        """Save `change` to therapist `slug`'s profile; audited with the fields changed."""
        require_admin(principal)
        values = _profile_values(change)
        async with write_transaction():
            now = self.clock()
            row = await Therapist.select(*THERAPIST_COLUMNS).where(Therapist.slug == slug).first()
            if row is None:
                raise NotFound(f"No therapist '{slug}'.")
            changed = _changed(row, values)
            if changed:
                await Therapist.update(
                    {getattr(Therapist, name): values[name] for name in changed}
                ).where(Therapist.slug == slug)
                await _audited(
                    AuditAction.PROFILE_CHANGED,
                    principal,
                    origin,
                    f"therapist:{slug}",
                    changed,
                    now,
                )
            saved = await Therapist.select(*THERAPIST_COLUMNS).where(Therapist.slug == slug)
        return TherapistRecord.from_row(saved[0])

    async def update_type(
        self,
        principal: StaffPrincipal,
        slug: str,
        change: TypeChange,
        origin: Origin = Origin(),  # noqa: B008
        problems: Sequence[FieldError] = (),
    ) -> ConsultationTypeRecord:
        """Save `change` to consultation type `slug`; the result is checked whole (a deposit
        above the price is refused whichever of the two changed); audited. `problems` found
        before (a form's text that is no number) are named with the rest, and nothing saved."""
        require_admin(principal)
        async with write_transaction():
            now = self.clock()
            row = await ConsultationType.select().where(ConsultationType.slug == slug).first()
            if row is None:
                raise NotFound(f"No consultation type '{slug}'.")
            values = _type_values(change, row, list(problems))
            changed = _changed(row, values)
            if changed:
                await ConsultationType.update(
                    {getattr(ConsultationType, name): values[name] for name in changed}
                ).where(ConsultationType.slug == slug)
                await _audited(
                    AuditAction.CONSULTATION_TYPE_CHANGED,
                    principal,
                    origin,
                    f"consultation_type:{slug}",
                    changed,
                    now,
                )
            saved = await ConsultationType.select().where(ConsultationType.slug == slug)
        return ConsultationTypeRecord.from_row(saved[0])


def _profile_values(change: ProfileChange) -> dict[str, Any]:
    problems: list[FieldError] = []
    values: dict[str, Any] = {}
    if change.name is not None:
        values["name"] = _text(change.name, "name", 200, problems, required=True)
    if change.credentials is not None:
        values["credentials"] = _text(change.credentials, "credentials", 200, problems)
    if change.bio is not None:
        values["bio"] = _text(change.bio, "bio", 4000, problems, multiline=True)
    if change.languages is not None:
        languages = [_text(w, "languages", 40, problems) for w in change.languages]
        languages = list(dict.fromkeys(w for w in languages if w))
        if not languages:
            problems.append(FieldError("languages", "Name at least one language."))
        values["languages"] = languages
    if change.modes is not None:
        values["modes"] = _modes(change.modes, problems)
    if change.timezone is not None:
        try:
            values["timezone"] = zone(change.timezone.strip()).key
        except ValueError:
            problems.append(FieldError("timezone", "Choose a time zone such as America/Toronto."))
    if change.accepting_new_couples is not None:
        values["accepting_new_couples"] = change.accepting_new_couples
    _raise(problems)
    return values


def _type_values(
    change: TypeChange, row: dict[str, Any], problems: list[FieldError]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if change.name is not None:
        values["name"] = _text(change.name, "name", 200, problems, required=True)
    if change.description is not None:
        values["description"] = _text(
            change.description, "description", 2000, problems, multiline=True
        )
    for name, (lowest, highest, unit) in TYPE_RANGES.items():
        value = getattr(change, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
            problems.append(
                FieldError(name, f"Give a whole number of {unit}, {lowest} to {highest}.")
            )
            continue
        values[name] = value
    if change.clear_daily_cap:
        values["daily_cap"] = None
    for money in ("price_amount", "deposit_amount"):
        if values.get(money) == 0:
            values[money] = None
    if change.currency is not None:
        currency = change.currency.strip().lower()
        if currency not in CURRENCY_SYMBOLS:
            problems.append(
                FieldError("currency", f"The currency is one of {', '.join(CURRENCY_SYMBOLS)}.")
            )
        values["currency"] = currency
    if change.modes is not None:
        values["modes"] = _modes(change.modes, problems)
    if change.active is not None:
        values["active"] = change.active
    merged = {**row, **values}
    if merged["deposit_amount"] is not None and (
        merged["price_amount"] is None or merged["deposit_amount"] > merged["price_amount"]
    ):
        problems.append(FieldError("deposit_amount", "A deposit is at most the price."))
    if (
        merged["slot_interval_minutes"]
        > merged["duration_minutes"] + merged["buffer_after_minutes"]
    ):
        problems.append(
            FieldError(
                "slot_interval_minutes",
                "Starts may be at most the consultation and its buffer apart.",
            )
        )
    _raise(problems)
    return values


def _text(
    value: str,
    field: str,
    longest: int,
    problems: list[FieldError],
    *,
    required: bool = False,
    multiline: bool = False,
) -> str:
    cleaned = value.strip() if multiline else " ".join(value.split())
    allowed = "\n\t\r" if multiline else ""
    if required and not cleaned:
        problems.append(FieldError(field, "This cannot be empty."))
    elif len(cleaned) > longest:
        problems.append(FieldError(field, f"At most {longest} characters."))
    elif any((ord(c) < 32 and c not in allowed) or ord(c) == 127 for c in cleaned):
        problems.append(FieldError(field, "This holds a control character."))
    return cleaned


def _modes(modes: tuple[str, ...], problems: list[FieldError]) -> list[str]:
    chosen = list(dict.fromkeys(m.strip() for m in modes))
    unknown = [m for m in chosen if m not in MODE_LABELS]
    if unknown or not chosen:
        problems.append(FieldError("modes", f"Choose one or more of {', '.join(MODE_LABELS)}."))
    return [m for m in chosen if m in MODE_LABELS]


def _raise(problems: list[FieldError]) -> None:
    if problems:
        message = problems[0].message if len(problems) == 1 else "Some fields need attention."
        raise ValidationFailed(message, problems)


def _changed(row: dict[str, Any], values: dict[str, Any]) -> list[str]:
    def same(a: object, b: object) -> bool:
        if isinstance(a, list | tuple) and isinstance(b, list | tuple):
            return list(a) == list(b)
        return a == b

    return [name for name, value in values.items() if not same(row.get(name), value)]


async def _audited(
    action: AuditAction,
    principal: StaffPrincipal,
    origin: Origin,
    what: str,
    changed: list[str],
    now: datetime,
) -> None:
    # The record names the fields, never their values ("bio" is public, but the rule is one).
    await record(action, principal, origin, record=f"{what} {','.join(changed)}"[:120], at=now)
