"""The service that edits a therapist's hours (checks in booking.scheduling.hours).

Every change is written in one write transaction under the therapist's lock, the same lock a
booking takes while it checks the therapist's time (booking.core.db.LockSpace.THERAPIST): two
saves of one therapist run one after the other and leave one of the two weeks whole, and no
booking is checked against half a week. Every change is audited; the note on time off is
private, so it is encrypted like an answer and never audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from booking.core.acting import Acting
from booking.core.audit import AuditAction
from booking.core.crypto import DecryptionError, Keyring
from booking.core.db import LockSpace, lock, read_scope, read_together, write_transaction
from booking.core.errors import NotFound
from booking.core.timezones import Clock, utc_now, zone
from booking.scheduling.engine import TherapistCalendar, WeeklyHours, working_intervals
from booking.scheduling.hours import (
    MAX_AHEAD,
    DayOverride,
    Hours,
    RangeIn,
    Schedule,
    TimeOffEntry,
    TimesIn,
    WeeklyRange,
    note_context,
    overrides_of,
    parse_override,
    parse_time_off,
    parse_week,
)
from booking.scheduling.records import TherapistRecord
from booking.scheduling.services import MAX_TIME_OFF_SPAN
from booking.scheduling.tables import DateOverride, TimeOff, WeeklyHoursRule


class HoursEditor:
    """Reads and replaces a therapist's hours; owns those changes' transactions."""

    def __init__(self, keyring: Keyring, clock: Clock = utc_now) -> None:
        self.keyring = keyring
        self.clock = clock

    async def schedule(self, therapist: TherapistRecord) -> Schedule:
        """The week, and the overrides and time off from today on (notes decrypted)."""
        tz = zone(therapist.timezone)
        now = self.clock()
        today = now.astimezone(tz).date()
        async with read_scope():
            weekly, overrides, time_off = await read_together(
                WeeklyHoursRule.select(
                    WeeklyHoursRule.weekday, WeeklyHoursRule.start_time, WeeklyHoursRule.end_time
                ).where(WeeklyHoursRule.therapist == therapist.id),
                DateOverride.select(
                    DateOverride.day,
                    DateOverride.closed,
                    DateOverride.start_time,
                    DateOverride.end_time,
                )
                .where((DateOverride.therapist == therapist.id) & (DateOverride.day >= today))
                .order_by(DateOverride.day),
                TimeOff.select(
                    TimeOff._meta.primary_key,
                    TimeOff.starts_at,
                    TimeOff.ends_at,
                    TimeOff.note_encrypted,
                )
                .where(
                    (TimeOff.therapist == therapist.id)
                    & (TimeOff.ends_at > now)
                    & (TimeOff.starts_at < now + MAX_AHEAD)
                )
                .order_by(TimeOff.starts_at),
            )
        week = sorted(
            (WeeklyRange(r["weekday"], Hours(r["start_time"], r["end_time"])) for r in weekly),
            key=lambda r: (r.weekday, r.hours.minutes),
        )
        return Schedule(
            timezone=tz,
            week=tuple(week),
            overrides=overrides_of(overrides),
            time_off=tuple(
                TimeOffEntry(
                    id=r["id"],
                    starts_at=r["starts_at"].astimezone(tz),
                    ends_at=r["ends_at"].astimezone(tz),
                    note=self._note(r["id"], r["note_encrypted"]),
                )
                for r in time_off
            ),
        )

    async def replace_week(
        self, therapist: TherapistRecord, ranges: Sequence[RangeIn], acting: Acting
    ) -> tuple[WeeklyRange, ...]:
        """Replace the weekly pattern with `ranges` (an empty week is allowed: no hours)."""
        week = parse_week(ranges)
        async with write_transaction():
            now = self.clock()
            await lock(LockSpace.THERAPIST, therapist.id)
            await WeeklyHoursRule.delete().where(WeeklyHoursRule.therapist == therapist.id)
            if week:
                await WeeklyHoursRule.insert(
                    *[
                        WeeklyHoursRule(
                            therapist=therapist.id,
                            weekday=r.weekday,
                            start_time=r.hours.start,
                            end_time=r.hours.end,
                        )
                        for r in week
                    ]
                )
            await acting.record(
                AuditAction.HOURS_REPLACED,
                at=now,
                record=f"therapist:{therapist.slug} weekly hours, {len(week)} ranges",
            )
        return week

    async def set_override(
        self,
        therapist: TherapistRecord,
        day: str,
        closed: bool,
        ranges: Sequence[TimesIn],
        acting: Acting,
    ) -> DayOverride:
        """Give one date its own hours (or close it), replacing any override it had."""
        tz = zone(therapist.timezone)
        override = parse_override(day, closed, ranges, tz, self.clock().astimezone(tz).date())
        async with write_transaction():
            now = self.clock()
            await lock(LockSpace.THERAPIST, therapist.id)
            await DateOverride.delete().where(
                (DateOverride.therapist == therapist.id) & (DateOverride.day == override.day)
            )
            rows = (
                [DateOverride(therapist=therapist.id, day=override.day, closed=True)]
                if override.closed
                else [
                    DateOverride(
                        therapist=therapist.id,
                        day=override.day,
                        closed=False,
                        start_time=hours.start,
                        end_time=hours.end,
                    )
                    for hours in override.ranges
                ]
            )
            await DateOverride.insert(*rows)
            await acting.record(
                AuditAction.OVERRIDE_SET,
                at=now,
                record=f"therapist:{therapist.slug} override {override.day.isoformat()}",
            )
        return override

    async def remove_override(self, therapist: TherapistRecord, day: date, acting: Acting) -> bool:
        """The date follows the weekly pattern again; False if it had no override."""
        async with write_transaction():
            now = self.clock()
            await lock(LockSpace.THERAPIST, therapist.id)
            where = (DateOverride.therapist == therapist.id) & (DateOverride.day == day)
            if not await DateOverride.exists().where(where):
                return False
            await DateOverride.delete().where(where)
            await acting.record(
                AuditAction.OVERRIDE_REMOVED,
                at=now,
                record=f"therapist:{therapist.slug} override {day.isoformat()}",
            )
        return True

    async def add_time_off(
        self,
        therapist: TherapistRecord,
        starts_at: str,
        ends_at: str,
        note: str,
        acting: Acting,
    ) -> TimeOffEntry:
        """Time off from one local date-time to another, with a private note."""
        tz = zone(therapist.timezone)
        start, end, cleaned = parse_time_off(starts_at, ends_at, note, tz, self.clock())
        async with write_transaction():
            now = self.clock()
            await lock(LockSpace.THERAPIST, therapist.id)
            (row,) = await TimeOff.insert(
                TimeOff(therapist=therapist.id, starts_at=start, ends_at=end)
            ).returning(TimeOff._meta.primary_key)
            entry_id = int(row["id"])
            if cleaned:
                # Sealed once the row has its id, so the note decrypts only on its own row.
                await TimeOff.update(
                    {
                        TimeOff.note_encrypted: self.keyring.encrypt(
                            cleaned.encode("utf-8"), note_context(entry_id)
                        )
                    }
                ).where(TimeOff._meta.primary_key == entry_id)
            await acting.record(
                AuditAction.TIME_OFF_ADDED,
                at=now,
                record=f"therapist:{therapist.slug} time off {entry_id}",
            )
        return TimeOffEntry(entry_id, start.astimezone(tz), end.astimezone(tz), cleaned)

    async def remove_time_off(
        self, therapist: TherapistRecord, entry_id: int, acting: Acting
    ) -> None:
        """Remove one of the therapist's time off entries; another's, or none, is a 404."""
        async with write_transaction():
            now = self.clock()
            await lock(LockSpace.THERAPIST, therapist.id)
            where = (TimeOff._meta.primary_key == entry_id) & (TimeOff.therapist == therapist.id)
            if not await TimeOff.exists().where(where):
                raise NotFound("No such time off.")
            await TimeOff.delete().where(where)
            await acting.record(
                AuditAction.TIME_OFF_REMOVED,
                at=now,
                record=f"therapist:{therapist.slug} time off {entry_id}",
            )

    async def working_time(
        self, therapist: TherapistRecord, start: datetime, end: datetime
    ) -> list[tuple[int, int]]:
        """The therapist's working time overlapping [start, end) as sorted epoch ranges: the
        week's ranges and the overrides, less their time off."""
        tz = zone(therapist.timezone)
        first_day = start.astimezone(tz).date()
        last_day = end.astimezone(tz).date()
        async with read_scope():
            weekly, overrides, time_off = await read_together(
                WeeklyHoursRule.select(
                    WeeklyHoursRule.weekday,
                    WeeklyHoursRule.start_time,
                    WeeklyHoursRule.end_time,
                    WeeklyHoursRule.valid_from,
                    WeeklyHoursRule.valid_until,
                ).where(WeeklyHoursRule.therapist == therapist.id),
                DateOverride.select(
                    DateOverride.day,
                    DateOverride.closed,
                    DateOverride.start_time,
                    DateOverride.end_time,
                ).where(
                    (DateOverride.therapist == therapist.id)
                    & (DateOverride.day >= first_day)
                    & (DateOverride.day <= last_day)
                ),
                TimeOff.select(TimeOff.starts_at, TimeOff.ends_at).where(
                    (TimeOff.therapist == therapist.id)
                    & (TimeOff.starts_at >= start - MAX_TIME_OFF_SPAN)
                    & (TimeOff.starts_at < end)
                    & (TimeOff.ends_at > start)
                ),
            )
        calendar = TherapistCalendar(
            therapist=therapist.slug,
            timezone=tz,
            weekly=[
                WeeklyHours(
                    r["weekday"], r["start_time"], r["end_time"], r["valid_from"], r["valid_until"]
                )
                for r in weekly
            ],
            overrides={
                o.day: [(h.start, h.end) for h in o.ranges] for o in overrides_of(overrides)
            },
            busy=[
                (int(r["starts_at"].timestamp()), int(r["ends_at"].timestamp())) for r in time_off
            ],
        )
        return working_intervals(calendar, first_day, last_day)

    def _note(self, entry_id: int, sealed: str | None) -> str:
        if not sealed:
            return ""
        try:
            return self.keyring.decrypt(sealed, note_context(entry_id)).decode("utf-8")
        except (DecryptionError, UnicodeDecodeError):
            # A note that no key of the keyring opens is shown as such, never as an error page.
            return "(this note cannot be read with the current keys)"


async def rotate_time_off_note_keys(keyring: Keyring) -> int:
    """Re-encrypt every time-off note not under the keyring's first key (`booking rotate-keys`);
    returns how many. Each note is its own small write, so an interrupted run can be repeated."""
    rows = await TimeOff.select(TimeOff._meta.primary_key, TimeOff.note_encrypted).where(
        TimeOff.note_encrypted.is_not_null()
    )
    rotated = 0
    for row in rows:
        token = row["note_encrypted"]
        if token and keyring.needs_rotation(token):
            await TimeOff.update(
                {TimeOff.note_encrypted: keyring.reencrypt(token, note_context(row["id"]))}
            ).where(TimeOff._meta.primary_key == row["id"])
            rotated += 1
    return rotated
