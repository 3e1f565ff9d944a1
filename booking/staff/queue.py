"""The admin's review queue: every booking with its intake, where its review stands, safety
flags first, then by consultation time; filters, counts per status, pages.

The list reads only what it shows (time, therapist, first names, whether each part is
complete, the flag, the statuses): never an answer, so nothing is decrypted for it. Each
booking listed is an audit row (`intake.listed`): who saw which intakes were there, when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from piccolo.query.functions.aggregate import Count

from booking.bookings import lifecycle
from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking, Partner
from booking.core.audit import AuditAction
from booking.core.db import write_transaction
from booking.core.errors import NotFound, ValidationFailed
from booking.core.timezones import Clock, zone
from booking.scheduling.tables import ConsultationType, Therapist
from booking.staff.access import Origin, record, require_admin
from booking.staff.principal import StaffPrincipal

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class ReviewStatus(StrEnum):
    """Where the admin's review of a booking stands; the stored `bookings.review_status`."""

    NEW = "new"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REFERRED = "referred"  # referred elsewhere
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return REVIEW_LABELS[self]


REVIEW_LABELS = {
    ReviewStatus.NEW: "new",
    ReviewStatus.IN_REVIEW: "in review",
    ReviewStatus.ACCEPTED: "accepted",
    ReviewStatus.REFERRED: "referred elsewhere",
    ReviewStatus.CLOSED: "closed",
}


def parse_review_status(value: str, field_name: str = "status") -> ReviewStatus:
    """The review status `value` names, or a ValidationFailed that lists the choices."""
    try:
        return ReviewStatus(value.strip().lower())
    except ValueError:
        choices = ", ".join(s.value for s in ReviewStatus)
        raise ValidationFailed.on(field_name, f"The status is one of {choices}.") from None


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the queue is narrowed to; every part optional. Dates are the practice's."""

    status: ReviewStatus | None = None
    therapist: str | None = None  # a slug
    flagged: bool | None = None
    first: date | None = None  # consultations from this date …
    last: date | None = None  # … to this one, inclusive


@dataclass(frozen=True, slots=True)
class PartnerLine:
    """A partner as the queue shows them: first name and whether their part is answered."""

    position: int
    first_name: str
    complete: bool


@dataclass(frozen=True, slots=True)
class QueueEntry:
    reference: str
    review_status: ReviewStatus
    # The booking's status as of now (an unpaid hold past its time reads expired).
    status: BookingStatus
    safety_flag: bool
    starts_at: datetime
    therapist: str
    therapist_name: str
    consultation_type: str
    mode: str
    partners: tuple[PartnerLine, ...]


@dataclass(frozen=True, slots=True)
class QueuePage:
    entries: list[QueueEntry]
    # Per review status, over the other filters (the counts do not narrow to one status).
    counts: dict[ReviewStatus, int]
    total: int
    page: int
    pages: int
    filters: QueueFilter = field(default_factory=QueueFilter)


class ReviewQueue:
    """The queue and the review status of each booking in it."""

    def __init__(self, practice_timezone: str, clock: Clock) -> None:
        self.practice_timezone = practice_timezone
        self.clock = clock

    async def page(
        self,
        principal: StaffPrincipal,
        filters: QueueFilter = QueueFilter(),
        page: int = 1,
        page_size: int = PAGE_SIZE,
        origin: Origin = Origin(),  # noqa: B008
    ) -> QueuePage:
        """One page of the queue, safety flags first, then by consultation time."""
        require_admin(principal)
        if page < 1:
            raise ValidationFailed.on("page", "Pages are numbered from 1.")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationFailed.on("page_size", f"A page holds 1 to {MAX_PAGE_SIZE} bookings.")
        where = await self._where(filters)
        counted = await (
            Booking.select(Booking.review_status, Count(alias="count"))
            .where(where)
            .group_by(Booking.review_status)
        )
        counts = {status: 0 for status in ReviewStatus}
        for row in counted:
            try:
                counts[ReviewStatus(row["review_status"])] = int(row["count"])
            except ValueError:  # a word this version does not know: not one of the queue's
                continue
        if filters.status is not None:
            where = where & (Booking.review_status == filters.status)
            total = counts[filters.status]
        else:
            total = sum(counts.values())
        rows = await (
            Booking.select(
                Booking._meta.primary_key,
                Booking.reference,
                Booking.review_status,
                Booking.status,
                Booking.hold_expires_at,
                Booking.safety_flag,
                Booking.starts_at,
                Booking.therapist,
                Booking.consultation_type,
                Booking.mode,
            )
            .where(where)
            .order_by(Booking.safety_flag, ascending=False)
            .order_by(Booking.starts_at)
            .order_by(Booking._meta.primary_key)
            .offset((page - 1) * page_size)
            .limit(page_size)
        )
        entries = await self._entries(rows)
        if entries:
            async with write_transaction():
                now = self.clock()
                for entry in entries:
                    await record(
                        AuditAction.INTAKE_LISTED,
                        principal,
                        origin,
                        booking=entry.reference,
                        record="queue",
                        at=now,
                    )
        pages = max(1, -(-total // page_size))
        return QueuePage(entries, counts, total, page, pages, filters)

    async def set_status(
        self,
        principal: StaffPrincipal,
        reference: str,
        status: ReviewStatus,
        origin: Origin = Origin(),  # noqa: B008
    ) -> ReviewStatus:
        """Move the booking's review to `status`, recorded with who and when (the audit row
        is the history: "new -> in_review"); the same status again changes nothing."""
        require_admin(principal)
        async with write_transaction():
            now = self.clock()
            row = (
                await Booking.select(Booking._meta.primary_key, Booking.review_status)
                .where(Booking.reference == reference.strip().upper())
                .first()
            )
            if row is None:
                raise NotFound("No booking has this reference.")
            before = row["review_status"]
            if before == status:
                return status
            await Booking.update(
                {
                    Booking.review_status: status,
                    Booking.review_changed_at: now,
                    Booking.review_changed_by: principal.actor.label,
                    Booking.updated_at: now,
                }
            ).where(Booking._meta.primary_key == row["id"])
            await record(
                AuditAction.REVIEW_STATUS_CHANGED,
                principal,
                origin,
                booking=reference.strip().upper(),
                record=f"{before} -> {status}",
                at=now,
            )
        return status

    async def _where(self, filters: QueueFilter) -> Any:
        """Every filter but the status (the counts are per status over the rest)."""
        # Erased bookings are stubs for the accounts: nothing is left to review.
        where: Any = Booking.erased_at.is_null()
        if filters.therapist:
            therapist = (
                await Therapist.select(Therapist._meta.primary_key)
                .where(Therapist.slug == filters.therapist)
                .first()
            )
            if therapist is None:
                raise ValidationFailed.on("therapist", f"No therapist '{filters.therapist}'.")
            where = where & (Booking.therapist == therapist["id"])
        if filters.flagged is not None:
            where = where & Booking.safety_flag.eq(filters.flagged)
        tz = zone(self.practice_timezone)
        if filters.first and filters.last and filters.last < filters.first:
            raise ValidationFailed.on("last", "The last date is before the first.")
        if filters.first:
            start = datetime.combine(filters.first, datetime.min.time(), tz)
            where = where & (Booking.starts_at >= start)
        if filters.last:
            end = datetime.combine(filters.last + timedelta(days=1), datetime.min.time(), tz)
            where = where & (Booking.starts_at < end)
        return where

    async def _entries(self, rows: list[dict[str, Any]]) -> list[QueueEntry]:
        """The page's bookings with their therapists' and types' names and the partners'
        first names and completion: three small lookups by id, no join, no answer."""
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        therapist_ids = sorted({r["therapist"] for r in rows})
        type_ids = sorted({r["consultation_type"] for r in rows})
        therapists = {
            t["id"]: t
            for t in await Therapist.select(
                Therapist._meta.primary_key, Therapist.slug, Therapist.name
            ).where(Therapist._meta.primary_key.is_in(therapist_ids))
        }
        types = {
            t["id"]: t["slug"]
            for t in await ConsultationType.select(
                ConsultationType._meta.primary_key, ConsultationType.slug
            ).where(ConsultationType._meta.primary_key.is_in(type_ids))
        }
        partners: dict[int, list[PartnerLine]] = {}
        for p in await (
            Partner.select(
                Partner.booking, Partner.position, Partner.name, Partner.intake_completed_at
            )
            .where(Partner.booking.is_in(ids))
            .order_by(Partner.position)
        ):
            words = p["name"].split()
            partners.setdefault(p["booking"], []).append(
                PartnerLine(
                    p["position"], words[0] if words else "", p["intake_completed_at"] is not None
                )
            )
        now = self.clock()
        entries = []
        for r in rows:
            therapist = therapists.get(r["therapist"], {"slug": "", "name": ""})
            entries.append(
                QueueEntry(
                    reference=r["reference"],
                    review_status=ReviewStatus(r["review_status"]),
                    status=lifecycle.effective_status(
                        BookingStatus(r["status"]), r["hold_expires_at"], now
                    ),
                    safety_flag=r["safety_flag"],
                    starts_at=r["starts_at"],
                    therapist=therapist["slug"],
                    therapist_name=therapist["name"],
                    consultation_type=types.get(r["consultation_type"], ""),
                    mode=r["mode"],
                    partners=tuple(partners.get(r["id"], [])),
                )
            )
        return entries
