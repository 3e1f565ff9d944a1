"""Reports over a chosen range of consultation dates (the practice's): bookings per week by
status, cancellations and no-shows, days from booking to consultation, intake completion.

Each report is its numbers (a table: what a screen reader and a spreadsheet read) and a chart
drawn from the same numbers on the server as SVG (booking.staff.charts). The figures are
counted from the bookings' own columns (status, times, completion), never from an answer, so
an erased booking's stub still counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from booking.bookings import lifecycle
from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking, Partner
from booking.core.errors import ValidationFailed
from booking.core.timezones import Clock, zone
from booking.staff.access import require_admin
from booking.staff.charts import bar_chart, stacked_bar_chart
from booking.staff.principal import StaffPrincipal

MAX_RANGE_DAYS = 366
# Days from booking to consultation, grouped: (label, lowest, highest inclusive; None: open).
LEAD_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("same or next day", 0, 1),
    ("2-3 days", 2, 3),
    ("4-7 days", 4, 7),
    ("8-14 days", 8, 14),
    ("15-30 days", 15, 30),
    ("over 30 days", 31, None),
)
STATUS_ORDER = (
    BookingStatus.CONFIRMED,
    BookingStatus.COMPLETED,
    BookingStatus.NO_SHOW,
    BookingStatus.CANCELLED,
    BookingStatus.PENDING_PAYMENT,
    BookingStatus.EXPIRED,
)


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str | int | float, ...], ...]


@dataclass(frozen=True, slots=True)
class Report:
    key: str
    title: str
    table: Table
    # The chart, an SVG document drawn from `table`'s numbers.
    svg: str


@dataclass(frozen=True, slots=True)
class Reports:
    first: date
    last: date
    bookings: int
    reports: tuple[Report, ...]

    def by_key(self, key: str) -> Report:
        return next(r for r in self.reports if r.key == key)


@dataclass(frozen=True, slots=True)
class _Row:
    week: date
    status: BookingStatus
    lead_days: int
    both_complete: bool


class ReportService:
    def __init__(self, practice_timezone: str, clock: Clock) -> None:
        self.practice_timezone = practice_timezone
        self.clock = clock

    async def reports(self, principal: StaffPrincipal, first: date, last: date) -> Reports:
        """Every report for consultations from `first` to `last` (inclusive)."""
        require_admin(principal)
        if last < first:
            raise ValidationFailed.on("last", "The last date is before the first.")
        if (last - first).days >= MAX_RANGE_DAYS:
            raise ValidationFailed.on("last", f"A range spans at most {MAX_RANGE_DAYS} days.")
        rows = await self._rows(first, last)
        weeks = _weeks(first, last)
        return Reports(
            first,
            last,
            len(rows),
            (
                _per_week_by_status(rows, weeks),
                _cancellations_and_no_shows(rows, weeks),
                _lead_days(rows),
                _intake_completion(rows, weeks),
            ),
        )

    async def _rows(self, first: date, last: date) -> list[_Row]:
        tz = zone(self.practice_timezone)
        start = datetime.combine(first, datetime.min.time(), tz)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tz)
        bookings = await Booking.select(
            Booking._meta.primary_key,
            Booking.status,
            Booking.hold_expires_at,
            Booking.created_at,
            Booking.starts_at,
        ).where((Booking.starts_at >= start) & (Booking.starts_at < end))
        complete: Counter[int] = Counter()
        ids = [b["id"] for b in bookings]
        for chunk in range(0, len(ids), 500):
            for p in await Partner.select(Partner.booking).where(
                Partner.booking.is_in(ids[chunk : chunk + 500])
                & Partner.intake_completed_at.is_not_null()
            ):
                complete[p["booking"]] += 1
        now = self.clock()
        rows = []
        for b in bookings:
            local = b["starts_at"].astimezone(tz).date()
            rows.append(
                _Row(
                    week=local - timedelta(days=local.weekday()),
                    status=lifecycle.effective_status(
                        BookingStatus(b["status"]), b["hold_expires_at"], now
                    ),
                    lead_days=max(0, (local - b["created_at"].astimezone(tz).date()).days),
                    both_complete=complete[b["id"]] >= 2,
                )
            )
        return rows


def _weeks(first: date, last: date) -> list[date]:
    """The Mondays of every week the range touches."""
    monday = first - timedelta(days=first.weekday())
    weeks = []
    while monday <= last:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def _week_label(week: date) -> str:
    return f"week of {week.isoformat()}"


def _per_week_by_status(rows: list[_Row], weeks: list[date]) -> Report:
    counts = Counter((r.week, r.status) for r in rows)
    statuses = [s for s in STATUS_ORDER if any(counts[(w, s)] for w in weeks)] or [
        BookingStatus.CONFIRMED
    ]
    table = Table(
        ("week", *(s.label for s in statuses), "total"),
        tuple(
            (
                _week_label(w),
                *(counts[(w, s)] for s in statuses),
                sum(counts[(w, s)] for s in statuses),
            )
            for w in weeks
        ),
    )
    svg = stacked_bar_chart(
        "Bookings per week by status",
        [w.isoformat() for w in weeks],
        {s.label: [counts[(w, s)] for w in weeks] for s in statuses},
    )
    return Report("per_week", "Bookings per week by status", table, svg)


def _cancellations_and_no_shows(rows: list[_Row], weeks: list[date]) -> Report:
    counts = Counter((r.week, r.status) for r in rows)
    kinds = (BookingStatus.CANCELLED, BookingStatus.NO_SHOW)
    table = Table(
        ("week", "cancelled", "no show"),
        tuple((_week_label(w), *(counts[(w, s)] for s in kinds)) for w in weeks),
    )
    svg = bar_chart(
        "Cancellations and no-shows",
        [w.isoformat() for w in weeks],
        {s.label: [counts[(w, s)] for w in weeks] for s in kinds},
    )
    return Report("cancellations", "Cancellations and no-shows", table, svg)


def _lead_days(rows: list[_Row]) -> Report:
    def bucket(days: int) -> str:
        for label, lowest, highest in LEAD_BUCKETS:
            if days >= lowest and (highest is None or days <= highest):
                return label
        return LEAD_BUCKETS[-1][0]

    counts = Counter(bucket(r.lead_days) for r in rows)
    labels = [label for label, _, _ in LEAD_BUCKETS]
    middle = median([r.lead_days for r in rows]) if rows else 0
    table = Table(
        ("days from booking to consultation", "bookings"),
        (*((label, counts[label]) for label in labels), ("median (days)", float(middle))),
    )
    svg = bar_chart(
        "Days from booking to consultation", labels, {"bookings": [counts[x] for x in labels]}
    )
    return Report("lead_days", "Days from booking to consultation", table, svg)


def _intake_completion(rows: list[_Row], weeks: list[date]) -> Report:
    # Of the consultations that were to happen (not holds that lapsed, not cancelled ones).
    counted = [
        r
        for r in rows
        if r.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
    ]
    total = Counter(r.week for r in counted)
    done = Counter(r.week for r in counted if r.both_complete)

    def share(week: date) -> float:
        return round(100 * done[week] / total[week], 1) if total[week] else 0.0

    table = Table(
        ("week", "consultations", "both parts answered", "per cent"),
        tuple((_week_label(w), total[w], done[w], share(w)) for w in weeks),
    )
    svg = bar_chart(
        "Intake completion (both partners, per cent)",
        [w.isoformat() for w in weeks],
        {"per cent complete": [share(w) for w in weeks]},
        percent=True,
    )
    return Report("intake_completion", "Intake completion", table, svg)
