"""The practice the availability benchmarks ask about, seeded relative to a given `now`.

Ten therapists (seven in Toronto, three in Vancouver) offering one 50-minute consultation
(30-minute interval, 10-minute buffer, no minimum notice), working weekdays 09:00-17:00 (every
other one with a lunch break). Inside the four-week window each has two confirmed bookings per
working day (on the hour, so none overlap), a live and an expired payment hold every fifth
working day, eight imported busy blocks, a day of time off and two date overrides. The same
`now` always gives the same rows (seeded RNG), so two databases seeded alike answer identically.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.engine.base import Engine
from piccolo.table import Table

from booking.bookings.tables import Booking
from booking.scheduling.tables import BusyInterval, DateOverride, TimeOff
from tests.factories import make_therapist, make_type

TYPE_SLUG = "consult"
THERAPISTS = 10
WINDOW_DAYS = 28
PRACTICE_ZONE = ZoneInfo("America/Toronto")
CHUNK = 1000


@dataclass(frozen=True)
class Practice:
    type_id: int
    therapist_ids: list[int]
    slugs: list[str]
    first: date  # first date of the window (inclusive)
    last: date  # last date of the window (inclusive)
    rows: dict[str, int]  # rows seeded in and around the window, by table

    def day_query(self, therapist: str) -> dict[str, str]:
        """One working day: the window's first Monday."""
        monday = self.first + timedelta(days=(7 - self.first.weekday()) % 7)
        return {**self.query(therapist), "start": monday.isoformat(), "end": monday.isoformat()}

    def query(self, therapist: str) -> dict[str, str]:
        return {
            "consultation_type": TYPE_SLUG,
            "therapist": therapist,
            "start": self.first.isoformat(),
            "end": self.last.isoformat(),
        }


def zone_of(index: int) -> ZoneInfo:
    return ZoneInfo("America/Vancouver" if index % 3 == 2 else "America/Toronto")


def at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=minute)


async def seed_practice(engine: Engine[Any], now: datetime) -> Practice:
    """The practice with its window starting the day after `now` (practice time), for 28 days."""
    first = now.astimezone(PRACTICE_ZONE).date() + timedelta(days=1)
    last = first + timedelta(days=WINDOW_DAYS - 1)
    type_id = await make_type(TYPE_SLUG, min_notice_minutes=0, horizon_days=60)
    ids: list[int] = []
    slugs: list[str] = []
    for i in range(THERAPISTS):
        hours: list[tuple[int, str, str]] = []
        for weekday in range(5):
            if i % 2:
                hours += [(weekday, "09:00", "12:00"), (weekday, "13:00", "17:00")]
            else:
                hours.append((weekday, "09:00", "17:00"))
        slug = f"t{i:02d}"
        ids.append(
            await make_therapist(
                slug, timezone=zone_of(i).key, types=(type_id,), hours=tuple(hours)
            )
        )
        slugs.append(slug)

    bookings: list[Table] = []
    busy: list[Table] = []
    time_off: list[Table] = []
    overrides: list[Table] = []
    for i, therapist in enumerate(ids):
        rng = random.Random(1000 + i)
        tz = zone_of(i)
        days = [first + timedelta(days=d) for d in range(-1, WINDOW_DAYS + 1)]
        for n, day in enumerate(days):
            if day.weekday() >= 5:
                continue
            # Hourly starts, so no two live bookings overlap (PostgreSQL enforces that).
            for minute in rng.sample(range(9 * 60, 15 * 60, 60), 2):
                reference = f"P{i:02d}{len(bookings):06d}"
                bookings.append(_booking(reference, therapist, type_id, at(day, minute, tz)))
            if n % 5 == 2:  # a live payment hold at 15:00 and an expired one at 16:00
                for expires, minute in (
                    (now + timedelta(minutes=10), 15 * 60),
                    (now - timedelta(hours=1), 16 * 60),
                ):
                    reference = f"P{i:02d}{len(bookings):06d}"
                    start = at(day, minute, tz)
                    bookings.append(
                        _booking(reference, therapist, type_id, start, "pending_payment", expires)
                    )
        for _ in range(8):
            day = first + timedelta(days=rng.randrange(WINDOW_DAYS))
            start = at(day, rng.randrange(8 * 60, 17 * 60, 15), tz)
            busy.append(
                BusyInterval(
                    therapist=therapist,
                    starts_at=start,
                    ends_at=start + timedelta(minutes=rng.choice((30, 60, 90, 120))),
                    source="ics",
                )
            )
        off_day = first + timedelta(days=9 + i % 3)
        time_off.append(
            TimeOff(
                therapist=therapist,
                starts_at=at(off_day, 0, tz),
                ends_at=at(off_day + timedelta(days=1), 0, tz),
                reason="leave",
            )
        )
        overrides.append(
            DateOverride(therapist=therapist, day=first + timedelta(days=15), closed=True)
        )
        overrides.append(
            DateOverride(
                therapist=therapist,
                day=first + timedelta(days=17),
                start_time=time(10),
                end_time=time(14),
            )
        )
    async with engine.transaction():
        for table, rows in (
            (Booking, bookings),
            (BusyInterval, busy),
            (TimeOff, time_off),
            (DateOverride, overrides),
        ):
            await insert_chunked(table, rows)
    return Practice(
        type_id=type_id,
        therapist_ids=ids,
        slugs=slugs,
        first=first,
        last=last,
        rows={
            "bookings": len(bookings),
            "busy_intervals": len(busy),
            "time_off": len(time_off),
            "date_overrides": len(overrides),
        },
    )


async def seed_history(engine: Engine[Any], practice: Practice, count: int) -> None:
    """`count` past rows (half confirmed bookings, half busy blocks), 1 to 4 years before the
    window, shared evenly by the therapists, in one transaction."""
    base = datetime.combine(practice.first, time(0), tzinfo=UTC)
    oldest = base - timedelta(days=4 * 365)
    span = timedelta(days=3 * 365)
    bookings = count // 2
    busy = count - bookings
    ids = practice.therapist_ids
    async with engine.transaction():
        rows: list[Table] = []
        for n in range(bookings):
            start = oldest + span * n / max(bookings, 1)
            rows.append(_booking(f"H{n:08d}", ids[n % len(ids)], practice.type_id, start))
            if len(rows) == CHUNK:
                await insert_chunked(Booking, rows)
                rows = []
        await insert_chunked(Booking, rows)
        rows = []
        for n in range(busy):
            start = oldest + span * n / max(busy, 1)
            rows.append(
                BusyInterval(
                    therapist=ids[n % len(ids)],
                    starts_at=start,
                    ends_at=start + timedelta(hours=1),
                    source="ics",
                )
            )
            if len(rows) == CHUNK:
                await insert_chunked(BusyInterval, rows)
                rows = []
        await insert_chunked(BusyInterval, rows)


async def insert_chunked(table: type[Table], rows: Sequence[Table]) -> None:
    for i in range(0, len(rows), CHUNK):
        await table.insert(*rows[i : i + CHUNK])


def _booking(
    reference: str,
    therapist: int,
    type_id: int,
    start: datetime,
    status: str = "confirmed",
    hold_expires_at: datetime | None = None,
) -> Booking:
    end = start + timedelta(minutes=50)
    return Booking(
        reference=reference,
        therapist=therapist,
        consultation_type=type_id,
        status=status,
        mode="video",
        starts_at=start,
        ends_at=end,
        blocked_until=end + timedelta(minutes=10),
        hold_expires_at=hold_expires_at,
    )
