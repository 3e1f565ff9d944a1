"""The bookings' side of availability: the time live bookings keep (scheduling.ports.BookedTime)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from booking.bookings.lifecycle import blocks_time
from booking.bookings.statuses import LIVE_STATUSES, BookingStatus
from booking.bookings.tables import Booking
from booking.core.timezones import epoch
from booking.scheduling.ports import Booked


class LiveBookings:
    """Booked time read from the bookings table; a hold counts while `blocks_time` says so."""

    async def busy(
        self,
        therapist_ids: Sequence[int],
        window: tuple[datetime, datetime],
        now: datetime,
        exclude_booking: int | None = None,
    ) -> list[Booked]:
        """Bookings of these therapists starting in `window` that keep their time at `now`.

        The query bounds starts_at on both ends (an index on (therapist, starts_at) serves it)
        and asks only for live statuses; the clock's part of the rule is applied to the rows.
        """
        return [
            _booked(row, None)
            for row in await self._live_rows(therapist_ids, window)
            if row["id"] != exclude_booking
            and blocks_time(BookingStatus(row["status"]), row["hold_expires_at"], now)
        ]

    async def held(
        self, therapist_ids: Sequence[int], window: tuple[datetime, datetime]
    ) -> list[Booked]:
        """Live bookings starting in `window`, a hold with the instant its time lapses
        (`hold_lapsed`: a hold without an expiry never keeps time)."""
        held: list[Booked] = []
        for row in await self._live_rows(therapist_ids, window):
            if BookingStatus(row["status"]) is not BookingStatus.PENDING_PAYMENT:
                held.append(_booked(row, None))
            elif row["hold_expires_at"] is not None:
                held.append(_booked(row, row["hold_expires_at"]))
        return held

    async def _live_rows(
        self, therapist_ids: Sequence[int], window: tuple[datetime, datetime]
    ) -> list[dict[str, Any]]:
        start, end = window
        rows: list[dict[str, Any]] = await Booking.select(
            Booking._meta.primary_key,
            Booking.therapist,
            Booking.consultation_type,
            Booking.status,
            Booking.starts_at,
            Booking.blocked_until,
            Booking.hold_expires_at,
        ).where(
            Booking.therapist.is_in(list(therapist_ids))
            & (Booking.starts_at >= start)
            & (Booking.starts_at < end)
            & Booking.status.is_in(list(LIVE_STATUSES))
        )
        return rows


def _booked(row: dict[str, Any], holds_until: datetime | None) -> Booked:
    return Booked(
        therapist_id=row["therapist"],
        consultation_type_id=row["consultation_type"],
        starts_at=epoch(row["starts_at"]),
        blocked_until=epoch(row["blocked_until"]),
        holds_until=holds_until,
    )
