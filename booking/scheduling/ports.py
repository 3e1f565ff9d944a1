"""What availability needs from other domains, as interfaces they implement.

Scheduling imports no other domain: the time couples have booked reaches it through
`BookedTime`, which the bookings domain implements (booking.bookings.booked_time) and the
application hands to the AvailabilityService it assembles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Booked:
    """A booking's hold on its therapist's time, in epoch seconds."""

    therapist_id: int
    consultation_type_id: int
    starts_at: int
    # The end of the time it keeps the therapist busy: its end plus its buffer.
    blocked_until: int
    # A hold keeps its time while `now < holds_until`; None: whatever the clock says.
    holds_until: datetime | None = None


class BookedTime(Protocol):
    """The booked time of therapists, as the bookings domain knows it."""

    async def busy(
        self,
        therapist_ids: Sequence[int],
        window: tuple[datetime, datetime],
        now: datetime,
        exclude_booking: int | None = None,
    ) -> list[Booked]:
        """Bookings of these therapists starting in `window` [start, end) that keep their time
        at `now` (a lapsed hold does not), leaving out `exclude_booking` (one being moved).

        Called inside the availability's read scope, beside its other reads.
        """
        ...

    async def held(
        self, therapist_ids: Sequence[int], window: tuple[datetime, datetime]
    ) -> list[Booked]:
        """Bookings of these therapists starting in `window` that keep their time at some
        instant: those `busy` answers at `now` are exactly the ones with `holds_until` None
        or after `now` (what the availability cache keeps, applying the clock per request).
        """
        ...
