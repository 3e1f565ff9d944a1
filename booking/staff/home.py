"""The workspace's home: a therapist's consultations of today and the coming two weeks,
safety follow-ups first.

What it shows of each (the partners' first names, whether each has answered, the safety
marker) is intake data, so showing it is a read: one audit row per consultation listed, in
one transaction with the page's other reads done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from booking.bookings.agenda import consultations_between
from booking.bookings.lifecycle import status_of
from booking.bookings.statuses import BookingStatus
from booking.core.acting import Acting
from booking.core.audit import AuditAction
from booking.core.db import write_transaction
from booking.core.timezones import Clock, day_bounds, utc_now, zone
from booking.notifications.delivery import first_name
from booking.scheduling.records import TherapistRecord
from booking.scheduling.tables import ConsultationType
from booking.staff.principal import StaffPrincipal
from booking.staff.reach import therapist_in_reach

# Today and this many days after it.
HOME_DAYS = 14
LISTED = "listed: first names, intake completion, safety marker"


@dataclass(frozen=True, slots=True)
class PartnerGlance:
    first_name: str
    intake_complete: bool


@dataclass(frozen=True, slots=True)
class HomeItem:
    reference: str
    # In the therapist's zone.
    starts_at: datetime
    ends_at: datetime
    consultation_type: str
    mode: str
    status: BookingStatus
    partners: tuple[PartnerGlance, ...]
    safety_flag: bool


@dataclass(frozen=True, slots=True)
class Home:
    therapist: TherapistRecord
    first: date
    last: date
    items: tuple[HomeItem, ...]

    @property
    def flagged(self) -> int:
        return sum(1 for item in self.items if item.safety_flag)


class WorkspaceHome:
    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock

    async def consultations(
        self, principal: StaffPrincipal, therapist: str | None, acting: Acting
    ) -> Home:
        """The consultations of today and the next HOME_DAYS days in the therapist's zone,
        flagged first, then by time; each listed one is audited as read."""
        found = await therapist_in_reach(principal, therapist)
        tz = zone(found.timezone)
        now = self.clock()
        first = now.astimezone(tz).date()
        last = first + timedelta(days=HOME_DAYS)
        start, end = day_bounds(first, last, tz)
        listed = await consultations_between(
            found.id, datetime.fromtimestamp(start, tz), datetime.fromtimestamp(end, tz), now
        )
        names = await _type_names({b.consultation_type_id for b, _ in listed})
        items = [
            HomeItem(
                reference=booking.reference,
                starts_at=booking.starts_at.astimezone(tz),
                ends_at=booking.ends_at.astimezone(tz),
                consultation_type=names.get(booking.consultation_type_id, ""),
                mode=booking.mode,
                status=status_of(booking.state, now),
                partners=tuple(
                    PartnerGlance(first_name(p.name), p.intake_completed_at is not None)
                    for p in partners
                ),
                safety_flag=booking.safety_flag,
            )
            for booking, partners in listed
        ]
        items.sort(key=lambda item: (not item.safety_flag, item.starts_at))
        if items:
            async with write_transaction():
                at = self.clock()
                for item in items:
                    await acting.record(
                        AuditAction.INTAKE_LISTED, at=at, booking=item.reference, record=LISTED
                    )
        return Home(found, first, last, tuple(items))


async def _type_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await ConsultationType.select(
        ConsultationType._meta.primary_key, ConsultationType.name
    ).where(ConsultationType._meta.primary_key.is_in(sorted(ids)))
    return {r["id"]: r["name"] for r in rows}
