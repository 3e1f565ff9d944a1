"""What a member of staff may reach: the one scoping helper of the staff side.

Every staff service asks here which therapist a page acts for and whether a booking is in
reach; nothing else decides it. A therapist reaches their own therapist and their own
consultations; an admin reaches every therapist (named by slug, `therapist=<slug>`, or the
first of the directory when none is named) and every booking. What a person may not reach
answers exactly as what does not exist: the same NotFound, the same words.
"""

from __future__ import annotations

from booking.bookings.records import BOOKING_COLUMNS, BookingRecord
from booking.bookings.tables import Booking
from booking.core.errors import NotFound
from booking.scheduling.records import THERAPIST_COLUMNS, TherapistRecord, load_therapist
from booking.scheduling.tables import Therapist
from booking.staff.principal import StaffPrincipal

# A reference is short: anything longer is refused before it reaches a query.
REFERENCE_LENGTH = 20
SLUG_LENGTH = 80


def no_therapist() -> NotFound:
    return NotFound("No therapist is known by that name here.")


def no_booking() -> NotFound:
    return NotFound("No booking has this reference.")


async def therapist_in_reach(principal: StaffPrincipal, slug: str | None = None) -> TherapistRecord:
    """The therapist a staff page acts for: a therapist's own (naming another is a 404); for
    an admin the one named by `slug`, or by default the first active one of the directory."""
    wanted = (slug or "").strip()
    if len(wanted) > SLUG_LENGTH:
        raise no_therapist()
    if not principal.is_admin:
        if principal.therapist_id is None:
            raise no_therapist()
        own = await load_therapist(principal.therapist_id)
        if own is None or (wanted and wanted != own.slug):
            raise no_therapist()
        return own
    query = Therapist.select(*THERAPIST_COLUMNS)
    if wanted:
        row = await query.where(Therapist.slug == wanted).first()
    else:
        row = await (
            query.where(Therapist.active.eq(True))
            .order_by(Therapist.position)
            .order_by(Therapist.name)
            .first()
        )
    if row is None:
        raise no_therapist()
    return TherapistRecord.from_row(row)


async def booking_in_reach(principal: StaffPrincipal, reference: str) -> BookingRecord:
    """The booking `reference` if the person may reach it: an admin any, a therapist only
    one of their own; otherwise the same 404 as a reference nobody has."""
    wanted = reference.strip()
    if not wanted or len(wanted) > REFERENCE_LENGTH:
        raise no_booking()
    query = Booking.select(*BOOKING_COLUMNS).where(Booking.reference == wanted)
    if not principal.is_admin:
        if principal.therapist_id is None:
            raise no_booking()
        query = query.where(Booking.therapist == principal.therapist_id)
    row = await query.first()
    if row is None:
        raise no_booking()
    return BookingRecord.from_row(row)


async def therapists_in_reach(principal: StaffPrincipal) -> list[TherapistRecord]:
    """The therapists a person may act for, in directory order: an admin's choice of all of
    them (active first), a therapist's own alone."""
    if not principal.is_admin:
        return [await therapist_in_reach(principal)]
    rows = await (
        Therapist.select(*THERAPIST_COLUMNS)
        .order_by(Therapist.active, ascending=False)
        .order_by(Therapist.position)
        .order_by(Therapist.name)
    )
    return [TherapistRecord.from_row(r) for r in rows]
