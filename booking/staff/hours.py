"""The hours pages' service: the editor's changes, and beside them what couples will be
offered and which booked consultations the hours now leave out.

The preview asks the same AvailabilityService the public API and pages ask, for each
consultation type the therapist offers, so it shows exactly what couples see. The warning
lists the live bookings from now on that no longer lie inside the working time (the week,
the overrides, less time off); nothing is ever cancelled because of a change of hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking.bookings.agenda import live_from
from booking.bookings.lifecycle import status_of
from booking.bookings.statuses import BookingStatus
from booking.core.acting import Acting
from booking.core.errors import NotFound, ValidationFailed
from booking.core.timezones import Clock, epoch, from_epoch, utc_now, zone
from booking.scheduling.engine import fits
from booking.scheduling.hours import RangeIn, Schedule, TimesIn
from booking.scheduling.hours_editor import HoursEditor
from booking.scheduling.records import ConsultationTypeRecord, TherapistRecord
from booking.scheduling.services import DEFAULT_WINDOW_DAYS, AvailabilityService
from booking.scheduling.tables import ConsultationType, TherapistOffering
from booking.staff.principal import StaffPrincipal
from booking.staff.reach import therapist_in_reach


@dataclass(frozen=True, slots=True)
class PreviewDay:
    day: date
    # Start times in the therapist's zone.
    starts: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class TypePreview:
    """The open times couples are offered for one consultation type."""

    slug: str
    name: str
    duration_minutes: int
    days: tuple[PreviewDay, ...]

    @property
    def count(self) -> int:
        return sum(len(d.starts) for d in self.days)


@dataclass(frozen=True, slots=True)
class Preview:
    """The next two weeks of open times, in the therapist's zone, as couples see them."""

    timezone: ZoneInfo
    first: date
    last: date
    types: tuple[TypePreview, ...]
    # False: couples cannot book this therapist now (not taking new couples, or inactive).
    bookable: bool


@dataclass(frozen=True, slots=True)
class OutsideBooking:
    """A live booking the hours no longer cover (it stands: nothing is cancelled)."""

    reference: str
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus


@dataclass(frozen=True, slots=True)
class HoursPage:
    therapist: TherapistRecord
    schedule: Schedule
    preview: Preview
    outside: tuple[OutsideBooking, ...]


class WorkspaceHours:
    """A therapist's hours, overrides and time off, for the person who may act for them."""

    def __init__(
        self, editor: HoursEditor, availability: AvailabilityService, clock: Clock = utc_now
    ) -> None:
        self.editor = editor
        self.availability = availability
        self.clock = clock

    async def page(self, principal: StaffPrincipal, therapist: str | None = None) -> HoursPage:
        """The hours as they stand, the preview and the warning."""
        return await self._page(await therapist_in_reach(principal, therapist))

    async def replace_week(
        self,
        principal: StaffPrincipal,
        therapist: str | None,
        ranges: Sequence[RangeIn],
        acting: Acting,
    ) -> HoursPage:
        found = await therapist_in_reach(principal, therapist)
        await self.editor.replace_week(found, ranges, acting)
        return await self._page(found)

    async def set_override(
        self,
        principal: StaffPrincipal,
        therapist: str | None,
        day: str,
        closed: bool,
        ranges: Sequence[TimesIn],
        acting: Acting,
    ) -> HoursPage:
        found = await therapist_in_reach(principal, therapist)
        await self.editor.set_override(found, day, closed, ranges, acting)
        return await self._page(found)

    async def remove_override(
        self, principal: StaffPrincipal, therapist: str | None, day: str, acting: Acting
    ) -> HoursPage:
        found = await therapist_in_reach(principal, therapist)
        try:
            parsed = date.fromisoformat(day.strip())
        except ValueError:
            raise ValidationFailed.on("day", "Give the date as YYYY-MM-DD.") from None
        await self.editor.remove_override(found, parsed, acting)
        return await self._page(found)

    async def add_time_off(
        self,
        principal: StaffPrincipal,
        therapist: str | None,
        starts_at: str,
        ends_at: str,
        note: str,
        acting: Acting,
    ) -> HoursPage:
        found = await therapist_in_reach(principal, therapist)
        await self.editor.add_time_off(found, starts_at, ends_at, note, acting)
        return await self._page(found)

    async def remove_time_off(
        self, principal: StaffPrincipal, therapist: str | None, entry: str, acting: Acting
    ) -> HoursPage:
        found = await therapist_in_reach(principal, therapist)
        if not entry.strip().isdigit() or len(entry.strip()) > 18:
            raise NotFound("No such time off.")
        await self.editor.remove_time_off(found, int(entry.strip()), acting)
        return await self._page(found)

    async def preview(self, therapist: TherapistRecord) -> Preview:
        """The open times of the next two weeks, per type the therapist offers."""
        tz = zone(therapist.timezone)
        first = self.clock().astimezone(tz).date()
        last = first + timedelta(days=DEFAULT_WINDOW_DAYS - 1)
        previews: list[TypePreview] = []
        bookable = therapist.accepting_new_couples
        for offered in await _offered_types(therapist.id):
            try:
                found = await self.availability.find(
                    offered.slug, therapist.slug, first, last, tz=tz
                )
            except (NotFound, ValidationFailed):
                # An inactive therapist is offered to nobody: couples see no time at all.
                bookable = False
                previews.append(
                    TypePreview(offered.slug, offered.name, offered.duration_minutes, ())
                )
                continue
            by_day: dict[date, list[datetime]] = {}
            for slot in found.slots:
                start = from_epoch(slot.start, tz)
                by_day.setdefault(start.date(), []).append(start)
            previews.append(
                TypePreview(
                    offered.slug,
                    offered.name,
                    offered.duration_minutes,
                    tuple(PreviewDay(d, tuple(s)) for d, s in sorted(by_day.items())),
                )
            )
        return Preview(tz, first, last, tuple(previews), bookable)

    async def outside(self, therapist: TherapistRecord) -> tuple[OutsideBooking, ...]:
        """Live bookings from now on that the working time no longer covers."""
        now = self.clock()
        bookings = await live_from(therapist.id, now)
        if not bookings:
            return ()
        working = await self.editor.working_time(
            therapist, bookings[0].starts_at, max(b.ends_at for b in bookings)
        )
        tz = zone(therapist.timezone)
        return tuple(
            OutsideBooking(
                reference=b.reference,
                starts_at=b.starts_at.astimezone(tz),
                ends_at=b.ends_at.astimezone(tz),
                status=status_of(b.state, now),
            )
            for b in bookings
            if not fits(epoch(b.starts_at), epoch(b.ends_at), working)
        )

    async def _page(self, therapist: TherapistRecord) -> HoursPage:
        return HoursPage(
            therapist=therapist,
            schedule=await self.editor.schedule(therapist),
            preview=await self.preview(therapist),
            outside=await self.outside(therapist),
        )


async def _offered_types(therapist_id: int) -> list[ConsultationTypeRecord]:
    """The active consultation types the therapist offers, in the directory's order."""
    rows = await (
        ConsultationType.select()
        .where(
            ConsultationType._meta.primary_key.is_in(
                TherapistOffering.select(TherapistOffering.consultation_type).where(
                    TherapistOffering.therapist == therapist_id
                )
            )
            & ConsultationType.active.eq(True)
        )
        .order_by(ConsultationType.position)
        .order_by(ConsultationType.name)
    )
    return [ConsultationTypeRecord.from_row(r) for r in rows]
