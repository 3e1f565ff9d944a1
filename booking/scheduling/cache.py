"""Availability from what this process already read, while the calendar versions say it holds.

Every change that can move a slot raises a version in the same transaction (the triggers of
migration m0018: a row per therapist, row 0 for the directory of types, policies, therapists
and offerings). A request reads the versions it needs in one indexed query; what it finds
here under those versions is used as it is, anything else is read again and kept:

- the directory: the consultation type and who offers it, per (type, therapist) asked for;
- a therapist's calendar inputs (hours, overrides, time off, busy time, live bookings with
  the instant a hold lapses), per (therapist, version, window);
- an answer: the window's open slots before the clock's part (`engine.open_slots`), each with
  its JSON already encoded, per (type, therapist, window, zone), valid while the versions and
  the set of lapsed holds stay the same.

The clock's part (minimum notice, horizon) is a cut of the sorted slots per request, exact as
`compute_slots` draws it; the response is the kept fragments joined. Versions are read before
the data they label, so a label is never newer than what it labels: a write in between only
costs one more read.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from heapq import merge
from typing import Generic, TypeVar
from zoneinfo import ZoneInfo

import msgspec

from booking.core.db import lookup, read_scope, read_together
from booking.core.errors import ValidationFailed
from booking.core.timezones import LocalClock, day_bounds, epoch, local_date, zone
from booking.scheduling.engine import (
    DatedSlot,
    Policy,
    Slot,
    TherapistCalendar,
    WeeklyHours,
    open_slots,
)
from booking.scheduling.ports import Booked
from booking.scheduling.records import ConsultationTypeRecord, TherapistRecord
from booking.scheduling.schemas import AvailabilityOut, SlotOut
from booking.scheduling.services import (
    ANY,
    CAP_MARGIN,
    DEFAULT_WINDOW_DAYS,
    MAX_WINDOW_DAYS,
    Availability,
    AvailabilityService,
    calendar_queries,
    confirm_offering,
    hours_by_therapist,
    offering_query,
    policy_of,
    type_or_404,
    type_query,
)

DIRECTORY = 0  # the versions row of types, policies, therapists and offerings
# Far enough from a cut that a slot's own local date cannot be on the other side of it.
SAFE = 2 * 86400

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Bounded(Generic[K, V]):
    """A dict keeping its `size` most recently used entries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


@dataclass(frozen=True, slots=True)
class _Directory:
    version: int
    consultation_type: ConsultationTypeRecord
    policy: Policy
    offering: list[TherapistRecord]  # who offers the type, sorted by slug
    bookable: list[TherapistRecord]  # of those, who takes new couples


@dataclass(frozen=True, slots=True)
class _Inputs:
    """One therapist's calendar over a window, as read, before the clock's part."""

    weekly: list[WeeklyHours]
    overrides: dict[date, list[tuple[time, time]]]
    blocked: list[tuple[int, int]]  # time off and busy time
    booked: list[Booked]

    def calendar(
        self, therapist: TherapistRecord, tz: ZoneInfo, type_id: int, now: datetime
    ) -> TherapistCalendar:
        live = [b for b in self.booked if b.holds_until is None or now < b.holds_until]
        return TherapistCalendar(
            therapist=therapist.slug,
            timezone=tz,
            weekly=self.weekly,
            overrides=self.overrides,
            busy=[*self.blocked, *((b.starts_at, b.blocked_until) for b in live)],
            booked_starts=[b.starts_at for b in live if b.consultation_type_id == type_id],
        )


@dataclass(frozen=True, slots=True)
class _Answer:
    directory: int
    versions: tuple[int, ...]  # of the bookable therapists, in order
    lapses: list[datetime]  # sorted instants at which a hold in the inputs lapses
    lapsed: int  # how many of them had lapsed at the clock it was computed for
    slots: list[DatedSlot]  # sorted by start, then therapist
    starts: list[int]
    owners: list[int]  # per slot, its therapist's position in `zones`
    zones: list[ZoneInfo]
    fragments: list[bytes]  # per slot, its JSON object
    viewer: ZoneInfo
    head: bytes  # the body up to the slots' list


class CachedAvailability:
    """`AvailabilityService.find` from this process's memory, checked against the versions.

    Answers byte for byte what the uncached service answers (tests/integration/scheduling/
    test_availability_cache.py interleaves writes across two apps and compares).
    """

    def __init__(
        self, service: AvailabilityService, answers: int = 512, inputs: int = 4096
    ) -> None:
        self.service = service
        self._directories: dict[tuple[str, str], _Directory] = {}
        self._inputs: _Bounded[tuple[int, int, int, int], _Inputs] = _Bounded(inputs)
        self._answers: _Bounded[tuple[str, str, date, date, str], _Answer] = _Bounded(answers)

    def clear(self) -> None:
        """Forget everything read (the next request of each kind reads again)."""
        self._directories.clear()
        self._inputs = _Bounded(self._inputs.size)
        self._answers = _Bounded(self._answers.size)

    async def json(
        self,
        consultation_type: str,
        therapist: str = ANY,
        first: date | None = None,
        last: date | None = None,
        tz: ZoneInfo | None = None,
    ) -> bytes:
        """The body of GET /api/v1/availability, as `availability_out(find(...))` encodes."""
        answer, keep = await self._answer(consultation_type, therapist, first, last, tz)
        return answer.head + b",".join([answer.fragments[i] for i in keep]) + b"]}"

    async def find(
        self,
        consultation_type: str,
        therapist: str = ANY,
        first: date | None = None,
        last: date | None = None,
        tz: ZoneInfo | None = None,
    ) -> Availability:
        """As `AvailabilityService.find` (no booking being moved)."""
        answer, keep = await self._answer(consultation_type, therapist, first, last, tz)
        slots = [answer.slots[i] for i in keep]
        return Availability(answer.viewer, [Slot(s.start, s.therapist, s.end) for s in slots])

    async def _answer(
        self,
        type_slug: str,
        therapist: str,
        first: date | None,
        last: date | None,
        tz: ZoneInfo | None,
    ) -> tuple[_Answer, range | list[int]]:
        now = self.service.clock()
        directory = self._directories.get((type_slug, therapist))
        ids = [t.id for t in directory.bookable] if directory is not None else []
        versions = await lookup("calendar_versions", "therapist_id", "version", [DIRECTORY, *ids])
        if directory is None or directory.version != versions.get(DIRECTORY, 0):
            directory = await self._directory(type_slug, therapist, versions.get(DIRECTORY, 0))
            if any(t.id not in versions for t in directory.bookable):
                # Read after the directory, so never newer than the calendars read next.
                versions = await lookup("calendar_versions", "therapist_id", "version", [])
        viewer = self._viewer_zone(directory, therapist, tz)
        first = first or now.astimezone(viewer).date()
        last = last or first + timedelta(days=DEFAULT_WINDOW_DAYS - 1)
        if last < first:
            raise ValidationFailed.on("end", "The end date is before the start date.")
        if (last - first).days > MAX_WINDOW_DAYS:
            raise ValidationFailed.on(
                "end", f"The window may span at most {MAX_WINDOW_DAYS} days after its start."
            )
        stamp = tuple(versions.get(t.id, 0) for t in directory.bookable)
        key = (type_slug, therapist, first, last, viewer.key)
        answer = self._answers.get(key)
        if (
            answer is None
            or answer.directory != directory.version
            or answer.versions != stamp
            or bisect_right(answer.lapses, now) != answer.lapsed
        ):
            answer = await self._compute(directory, stamp, first, last, viewer, now)
            self._answers.put(key, answer)
        return answer, self._cut(answer, directory.policy, now)

    async def _directory(self, type_slug: str, therapist: str, version: int) -> _Directory:
        async with read_scope():
            found_type, offering = await read_together(
                type_query(type_slug), offering_query(type_slug, therapist)
            )
            found = type_or_404(found_type, type_slug)
            therapists = await confirm_offering(offering, found, therapist)
        directory = _Directory(
            version=version,
            consultation_type=found,
            policy=policy_of(found),
            offering=therapists,
            bookable=[t for t in therapists if t.accepting_new_couples],
        )
        self._directories[(type_slug, therapist)] = directory
        return directory

    def _viewer_zone(self, directory: _Directory, therapist: str, tz: ZoneInfo | None) -> ZoneInfo:
        if tz is not None:
            return tz
        if therapist == ANY:
            return zone(self.service.practice_timezone)
        return zone(directory.offering[0].timezone)

    async def _compute(
        self,
        directory: _Directory,
        stamp: tuple[int, ...],
        first: date,
        last: date,
        viewer: ZoneInfo,
        now: datetime,
    ) -> _Answer:
        window_start, window_end = day_bounds(first, last, viewer)
        therapists = directory.bookable
        keys = [
            (t.id, version, window_start, window_end)
            for t, version in zip(therapists, stamp, strict=True)
        ]
        found: dict[tuple[int, int, int, int], _Inputs] = {}
        missing: list[TherapistRecord] = []
        for t, key in zip(therapists, keys, strict=True):
            kept = self._inputs.get(key)
            if kept is None:
                missing.append(t)
            else:
                found[key] = kept
        if missing:
            read = await self._read_inputs(missing, window_start, window_end)
            for t, key in zip(therapists, keys, strict=True):
                if key not in found:
                    found[key] = read[t.id]
                    self._inputs.put(key, read[t.id])
        zones = [zone(t.timezone) for t in therapists]
        type_id = directory.consultation_type.id
        per_therapist: list[list[DatedSlot]] = []
        lapses: list[datetime] = []
        for t, tz, key in zip(therapists, zones, keys, strict=True):
            inputs = found[key]
            lapses += [b.holds_until for b in inputs.booked if b.holds_until is not None]
            calendar = inputs.calendar(t, tz, type_id, now)
            per_therapist.append(open_slots(calendar, directory.policy, window_start, window_end))
        lapses.sort()
        slots = list(merge(*per_therapist))
        position = {t.slug: i for i, t in enumerate(therapists)}
        local = LocalClock(viewer)
        encode = msgspec.json.encode
        return _Answer(
            directory=directory.version,
            versions=stamp,
            lapses=lapses,
            lapsed=bisect_right(lapses, now),
            slots=slots,
            starts=[s.start for s in slots],
            owners=[position[s.therapist] for s in slots],
            zones=zones,
            fragments=[
                encode(SlotOut(local.isoformat(s.start), local.isoformat(s.end), s.therapist))
                for s in slots
            ],
            viewer=viewer,
            head=encode(AvailabilityOut(timezone=viewer.key, slots=[]))[:-2],
        )

    @staticmethod
    def _cut(answer: _Answer, policy: Policy, now: datetime) -> range | list[int]:
        """Positions of the slots `compute_slots` offers at `now`: start at or after now plus
        the notice, offered by a local date from that instant's to today's plus the horizon.

        Only slots within two days of either edge are looked at one by one."""
        starts = answer.starts
        earliest = epoch(now) + policy.min_notice_minutes * 60
        low = bisect_left(starts, earliest)
        now_epoch = epoch(now)
        horizon = timedelta(days=policy.horizon_days)
        firsts = [local_date(earliest, tz).toordinal() for tz in answer.zones]
        lasts = [(local_date(now_epoch, tz) + horizon).toordinal() for tz in answer.zones]
        safe_high = min(
            (
                int(datetime.combine(date.fromordinal(d), time()).replace(tzinfo=tz).timestamp())
                - SAFE
                for d, tz in zip(lasts, answer.zones, strict=True)
            ),
            default=0,
        )
        sure_low = bisect_left(starts, earliest + SAFE, lo=low)
        sure_high = bisect_left(starts, safe_high, lo=low)
        if sure_low >= sure_high:
            return [i for i in range(low, len(starts)) if _within(answer, i, firsts, lasts)]
        head = [i for i in range(low, sure_low) if _within(answer, i, firsts, lasts)]
        tail = [i for i in range(sure_high, len(starts)) if _within(answer, i, firsts, lasts)]
        if not head and not tail:
            return range(sure_low, sure_high)
        return [*head, *range(sure_low, sure_high), *tail]

    async def _read_inputs(
        self, therapists: Sequence[TherapistRecord], window_start: int, window_end: int
    ) -> dict[int, _Inputs]:
        """As `services.load_calendars` reads them, the clock's part left for later."""
        ids = [t.id for t in therapists]
        lo = datetime.fromtimestamp(window_start, UTC)
        hi = datetime.fromtimestamp(window_end, UTC)
        async with read_scope():
            weekly, overrides, time_off, busy, booked = await read_together(
                *calendar_queries(ids, lo, hi),
                self.service.booked.held(ids, (lo - CAP_MARGIN, hi + CAP_MARGIN)),
            )
        blocked: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for row in (*time_off, *busy):
            blocked[row["therapist"]].append((epoch(row["starts_at"]), epoch(row["ends_at"])))
        by_therapist: dict[int, list[Booked]] = defaultdict(list)
        for b in booked:
            by_therapist[b.therapist_id].append(b)
        rules, days = hours_by_therapist(weekly, overrides)
        return {
            i: _Inputs(
                weekly=rules[i], overrides=days[i], blocked=blocked[i], booked=by_therapist[i]
            )
            for i in ids
        }


def _within(answer: _Answer, i: int, firsts: list[int], lasts: list[int]) -> bool:
    owner = answer.owners[i]
    return firsts[owner] <= answer.slots[i].day <= lasts[owner]
