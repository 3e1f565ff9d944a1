"""Directory and availability: read the scheduling tables, ask the engine for slots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from booking.core.db import read_scope, read_together
from booking.core.errors import NotFound, ValidationFailed
from booking.core.timezones import Clock, day_bounds, epoch, utc_now, zone
from booking.scheduling.engine import (
    Policy,
    Slot,
    TherapistCalendar,
    WeeklyHours,
    compute_slots,
    merge_slots,
)
from booking.scheduling.ports import BookedTime
from booking.scheduling.records import THERAPIST_COLUMNS, ConsultationTypeRecord, TherapistRecord
from booking.scheduling.schemas import ConsultationTypeOut, Money, PolicyOut, TherapistOut
from booking.scheduling.tables import (
    BusyInterval,
    ConsultationType,
    DateOverride,
    Therapist,
    TherapistOffering,
    TimeOff,
    WeeklyHoursRule,
)

ANY = "any"
DEFAULT_WINDOW_DAYS = 14
MAX_WINDOW_DAYS = 62

# Every busy row is bounded in length, so an overlap query can bound starts_at on both ends
# and an index on (therapist, starts_at) serves it whatever the length of the history.
MAX_TIME_OFF_SPAN = timedelta(days=366)
MAX_BUSY_SPAN = timedelta(days=7)
# Margin around the window for bookings: a therapist-local date may begin up to a day before
# the window's first instant or end a day after its last (the daily cap counts whole dates),
# and a consultation with its buffer lasts less than a day.
CAP_MARGIN = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Availability:
    timezone: ZoneInfo
    slots: list[Slot]


def type_out(consultation_type: ConsultationTypeRecord) -> ConsultationTypeOut:
    def money(amount: int | None) -> Money | None:
        return None if amount is None else Money(amount=amount, currency=consultation_type.currency)

    return ConsultationTypeOut(
        slug=consultation_type.slug,
        name=consultation_type.name,
        description=consultation_type.description,
        duration_minutes=consultation_type.duration_minutes,
        modes=list(consultation_type.modes),
        price=money(consultation_type.price_amount),
        deposit=money(consultation_type.deposit_amount),
        policy=PolicyOut(
            buffer_after_minutes=consultation_type.buffer_after_minutes,
            slot_interval_minutes=consultation_type.slot_interval_minutes,
            min_notice_minutes=consultation_type.min_notice_minutes,
            horizon_days=consultation_type.horizon_days,
            daily_cap=consultation_type.daily_cap,
            refund_window_hours=consultation_type.refund_window_hours,
            reschedule_cutoff_hours=consultation_type.reschedule_cutoff_hours,
            payment_hold_minutes=consultation_type.payment_hold_minutes,
        ),
    )


def policy_of(consultation_type: ConsultationTypeRecord) -> Policy:
    return Policy(
        duration_minutes=consultation_type.duration_minutes,
        slot_interval_minutes=consultation_type.slot_interval_minutes,
        buffer_after_minutes=consultation_type.buffer_after_minutes,
        min_notice_minutes=consultation_type.min_notice_minutes,
        horizon_days=consultation_type.horizon_days,
        daily_cap=consultation_type.daily_cap,
    )


class DirectoryService:
    """The practice's public directory: active therapists and consultation types."""

    async def therapists(self) -> list[TherapistOut]:
        rows = await (
            Therapist.select(*THERAPIST_COLUMNS)
            .where(Therapist.active.eq(True))
            .order_by(Therapist.position)
            .order_by(Therapist.name)
        )
        therapists = [TherapistRecord.from_row(r) for r in rows]
        offered = await self._offered_types([t.id for t in therapists])
        return [_therapist_out(t, offered[t.id]) for t in therapists]

    async def therapist(self, slug: str) -> TherapistOut:
        row = await (
            Therapist.select(*THERAPIST_COLUMNS)
            .where((Therapist.slug == slug) & Therapist.active.eq(True))
            .first()
        )
        if row is None:
            raise NotFound(f"No therapist '{slug}' practises here.")
        therapist = TherapistRecord.from_row(row)
        offered = await self._offered_types([therapist.id])
        return _therapist_out(therapist, offered[therapist.id])

    async def consultation_types(self) -> list[ConsultationTypeOut]:
        rows = await (
            ConsultationType.select()
            .where(ConsultationType.active.eq(True))
            .order_by(ConsultationType.position)
            .order_by(ConsultationType.name)
        )
        return [type_out(ConsultationTypeRecord.from_row(r)) for r in rows]

    async def consultation_type(self, slug: str) -> ConsultationTypeOut:
        return type_out(await load_type_row(slug))

    async def _offered_types(self, therapist_ids: list[int]) -> dict[int, list[str]]:
        offered: dict[int, list[str]] = defaultdict(list)
        if not therapist_ids:
            return offered
        rows = await (
            TherapistOffering.select(
                TherapistOffering.therapist,
                TherapistOffering.consultation_type._.slug.as_alias("slug"),
            )
            .where(TherapistOffering.therapist.is_in(therapist_ids))
            .where(TherapistOffering.consultation_type._.active.eq(True))
            .order_by(TherapistOffering.consultation_type._.position)
        )
        for r in rows:
            offered[r["therapist"]].append(r["slug"])
        return offered


class AvailabilityService:
    """Open slots for a consultation type over a window of dates in a viewer's zone."""

    def __init__(self, practice_timezone: str, booked: BookedTime, clock: Clock = utc_now) -> None:
        self.practice_timezone = practice_timezone
        self.booked = booked
        self.clock = clock

    async def find(
        self,
        consultation_type: str,
        therapist: str = ANY,
        first: date | None = None,
        last: date | None = None,
        tz: ZoneInfo | None = None,
        now: datetime | None = None,
        moving: int | None = None,
    ) -> Availability:
        """Slots whose start falls on a date from `first` to `last` (inclusive) in `tz`.

        `tz` defaults to the therapist's zone (for "any", the practice's); `first` to today
        there and `last` to 13 days after `first`. `moving` names a booking being moved: its
        own time counts as free, and its therapist is offered even when no longer taking new
        couples.
        """
        now = now or self.clock()
        async with read_scope():
            found_type, offering = await read_together(
                type_query(consultation_type), offering_query(consultation_type, therapist)
            )
            found = type_or_404(found_type, consultation_type)
            therapists = await confirm_offering(offering, found, therapist)
            if tz is not None:
                viewer_zone = tz
            elif therapist == ANY:
                viewer_zone = zone(self.practice_timezone)
            else:
                viewer_zone = zone(therapists[0].timezone)
            first = first or now.astimezone(viewer_zone).date()
            last = last or first + timedelta(days=DEFAULT_WINDOW_DAYS - 1)
            if last < first:
                raise ValidationFailed.on("end", "The end date is before the start date.")
            if (last - first).days > MAX_WINDOW_DAYS:
                raise ValidationFailed.on(
                    "end", f"The window may span at most {MAX_WINDOW_DAYS} days after its start."
                )
            window_start, window_end = day_bounds(first, last, viewer_zone)
            bookable = [t for t in therapists if t.accepting_new_couples or moving is not None]
            calendars = await load_calendars(
                self.booked, found, bookable, window_start, window_end, now, moving
            )
        policy = policy_of(found)
        per_therapist = [
            compute_slots(c, policy, window_start, window_end, epoch(now)) for c in calendars
        ]
        return Availability(viewer_zone, merge_slots(per_therapist))

    async def offers(
        self,
        consultation_type: ConsultationTypeRecord,
        therapist: TherapistRecord,
        start: datetime,
        now: datetime,
        exclude_booking: int | None = None,
    ) -> bool:
        """Whether the engine offers exactly `start` with this therapist at `now`.

        `exclude_booking` leaves that booking's own time out of the busy time (rescheduling).
        """
        tz = zone(therapist.timezone)
        day = start.astimezone(tz).date()
        window_start, window_end = day_bounds(day, day, tz)
        (calendar,) = await load_calendars(
            self.booked,
            consultation_type,
            [therapist],
            window_start,
            window_end,
            now,
            exclude_booking,
        )
        policy = policy_of(consultation_type)
        slots = compute_slots(calendar, policy, window_start, window_end, epoch(now))
        wanted = epoch(start)
        return any(slot.start == wanted for slot in slots)

    async def therapists_offering(
        self, consultation_type: ConsultationTypeRecord, therapist: str
    ) -> list[TherapistRecord]:
        """Active therapists offering the type (one, or all for "any"), sorted by slug."""
        return await confirm_offering(
            await offering_query(consultation_type.slug, therapist), consultation_type, therapist
        )


def offering_query(type_slug: str, therapist: str) -> Any:
    """The query for active therapists offering the type `type_slug` (one, or all for "any").

    Subqueries on plain columns rather than a join: Piccolo builds joins slowly (measured: most
    of the query's time), and without the type's id this query can run beside the type's own.
    """
    offered = TherapistOffering.select(TherapistOffering.therapist).where(
        TherapistOffering.consultation_type.is_in(
            ConsultationType.select(ConsultationType._meta.primary_key).where(
                ConsultationType.slug == type_slug
            )
        )
    )
    query = Therapist.select(*THERAPIST_COLUMNS).where(
        Therapist._meta.primary_key.is_in(offered) & Therapist.active.eq(True)
    )
    if therapist != ANY:
        query = query.where(Therapist.slug == therapist)
    return query


async def confirm_offering(
    rows: list[dict[str, Any]], consultation_type: ConsultationTypeRecord, therapist: str
) -> list[TherapistRecord]:
    """The offering query's therapists sorted by slug; when one named therapist is missing,
    say why."""
    if rows or therapist == ANY:
        return sorted((TherapistRecord.from_row(r) for r in rows), key=lambda t: t.slug)
    exists = await Therapist.exists().where(
        (Therapist.slug == therapist) & Therapist.active.eq(True)
    )
    if not exists:
        raise NotFound(f"No therapist '{therapist}' practises here.")
    raise ValidationFailed.on(
        "therapist", f"'{therapist}' does not offer '{consultation_type.slug}' consultations."
    )


def type_query(slug: str) -> Any:
    """The query for the active consultation type `slug` (a row, or None)."""
    return (
        ConsultationType.select()
        .where((ConsultationType.slug == slug) & ConsultationType.active.eq(True))
        .first()
    )


async def load_type_row(slug: str) -> ConsultationTypeRecord:
    """The active consultation type `slug`, or 404."""
    return type_or_404(await type_query(slug), slug)


def type_or_404(row: Mapping[str, Any] | None, slug: str) -> ConsultationTypeRecord:
    if row is None:
        raise NotFound(f"No consultation type '{slug}' is offered.")
    return ConsultationTypeRecord.from_row(row)


def _therapist_out(therapist: TherapistRecord, offered: list[str]) -> TherapistOut:
    return TherapistOut(
        slug=therapist.slug,
        name=therapist.name,
        credentials=therapist.credentials,
        bio=therapist.bio,
        timezone=therapist.timezone,
        languages=list(therapist.languages),
        modes=list(therapist.modes),
        consultation_types=offered,
        accepting_new_couples=therapist.accepting_new_couples,
    )


def overlapping_query(
    table: type[TimeOff] | type[BusyInterval],
    ids: list[int],
    lo: datetime,
    hi: datetime,
    longest: timedelta,
) -> Any:
    """The query for rows of `table` overlapping [lo, hi), found through (therapist,
    starts_at) from both ends: a row lasts at most `longest`, so none starting earlier can
    reach the window."""
    return table.select(table.therapist, table.starts_at, table.ends_at).where(
        table.therapist.is_in(ids)
        & (table.starts_at >= lo - longest)
        & (table.starts_at < hi)
        & (table.ends_at > lo)
    )


def calendar_queries(ids: list[int], lo: datetime, hi: datetime) -> tuple[Any, Any, Any, Any]:
    """The four reads of therapists `ids`' hours and busy time that can touch the window
    [lo, hi): weekly hours, the date overrides of its local dates (a day either side, for any
    zone), and the time off and busy time overlapping it. Each is bounded on both ends of an
    indexed column, so its cost follows the window, not the length of the history."""
    first_day = lo.date() - timedelta(days=1)
    last_day = hi.date() + timedelta(days=1)
    return (
        WeeklyHoursRule.select(
            WeeklyHoursRule.therapist,
            WeeklyHoursRule.weekday,
            WeeklyHoursRule.start_time,
            WeeklyHoursRule.end_time,
            WeeklyHoursRule.valid_from,
            WeeklyHoursRule.valid_until,
        ).where(WeeklyHoursRule.therapist.is_in(ids)),
        DateOverride.select(
            DateOverride.therapist,
            DateOverride.day,
            DateOverride.closed,
            DateOverride.start_time,
            DateOverride.end_time,
        ).where(
            DateOverride.therapist.is_in(ids)
            & (DateOverride.day >= first_day)
            & (DateOverride.day <= last_day)
        ),
        overlapping_query(TimeOff, ids, lo, hi, MAX_TIME_OFF_SPAN),
        overlapping_query(BusyInterval, ids, lo, hi, MAX_BUSY_SPAN),
    )


def hours_by_therapist(
    weekly: list[dict[str, Any]], overrides: list[dict[str, Any]]
) -> tuple[dict[int, list[WeeklyHours]], dict[int, dict[date, list[tuple[time, time]]]]]:
    """The rows of `calendar_queries`' weekly hours and overrides, by therapist id: the weekly
    ranges, and each overridden day's ranges (none for a closed day)."""
    rules: dict[int, list[WeeklyHours]] = defaultdict(list)
    for row in weekly:
        rules[row["therapist"]].append(
            WeeklyHours(
                row["weekday"],
                row["start_time"],
                row["end_time"],
                row["valid_from"],
                row["valid_until"],
            )
        )
    days: dict[int, dict[date, list[tuple[time, time]]]] = defaultdict(dict)
    for row in overrides:
        ranges = days[row["therapist"]].setdefault(row["day"], [])
        if not row["closed"] and row["start_time"] is not None and row["end_time"] is not None:
            ranges.append((row["start_time"], row["end_time"]))
    # A closed row wins over any ranges given for the same day.
    for row in overrides:
        if row["closed"]:
            days[row["therapist"]][row["day"]] = []
    return rules, days


async def load_calendars(
    booked: BookedTime,
    consultation_type: ConsultationTypeRecord,
    therapists: Sequence[TherapistRecord],
    window_start: int,
    window_end: int,
    now: datetime,
    exclude_booking: int | None = None,
) -> list[TherapistCalendar]:
    """Each therapist's hours and busy time overlapping the window, with the time `booked`
    (all read together: at once on PostgreSQL, on one connection on SQLite).

    Every query is bounded on both ends of an indexed column, so its cost follows the window,
    not the length of the history.
    """
    if not therapists:
        return []
    ids = [t.id for t in therapists]
    lo = datetime.fromtimestamp(window_start, UTC)
    hi = datetime.fromtimestamp(window_end, UTC)
    zones = {t.id: zone(t.timezone) for t in therapists}

    async with read_scope():
        weekly, overrides, time_off, busy, bookings = await read_together(
            *calendar_queries(ids, lo, hi),
            booked.busy(ids, (lo - CAP_MARGIN, hi + CAP_MARGIN), now, exclude_booking),
        )

    blocked: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in (*time_off, *busy):
        blocked[row["therapist"]].append((epoch(row["starts_at"]), epoch(row["ends_at"])))
    booked_starts: dict[int, list[int]] = defaultdict(list)
    for booking in bookings:
        blocked[booking.therapist_id].append((booking.starts_at, booking.blocked_until))
        if booking.consultation_type_id == consultation_type.id:
            booked_starts[booking.therapist_id].append(booking.starts_at)
    rules, days = hours_by_therapist(weekly, overrides)

    return [
        TherapistCalendar(
            therapist=t.slug,
            timezone=zones[t.id],
            weekly=rules[t.id],
            overrides=days[t.id],
            busy=blocked[t.id],
            booked_starts=booked_starts[t.id],
        )
        for t in therapists
    ]
