"""Two app instances on one database, each answering availability from its own memory: random
writes interleaved across them (bookings through either app's API, and every other writer's
tables written directly, as the staff pages, imports, deposits and sweeps write them), the
clock moving, and after every step each app's answer is byte for byte the uncached one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
from asyncpg.exceptions import ExclusionViolationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from piccolo.columns import Column

from booking.bookings.booked_time import LiveBookings
from booking.bookings.tables import Booking
from booking.core.errors import ServiceError
from booking.core.settings import Settings
from booking.scheduling.services import AvailabilityService
from booking.scheduling.tables import (
    BusyInterval,
    ConsultationType,
    DateOverride,
    Therapist,
    TherapistOffering,
    TimeOff,
    WeeklyHoursRule,
)
from booking.web.app import create_app
from booking.web.public_api import availability_out
from tests.asgi import asgi_transport
from tests.factories import add_booking, booking_request, make_therapist, make_type
from tests.fixtures.databases import Database
from tests.integration.conftest import NOW, FixedClock

THERAPISTS = {"ana": "America/Toronto", "ben": "America/Vancouver"}
TODAY = date(2026, 12, 2)
HOURS = st.integers(min_value=6, max_value=20)
DAYS = st.integers(min_value=-1, max_value=30)
NAMES = st.sampled_from(sorted(THERAPISTS))
# Near the windows asked for most, inside the working hours.
SOON = st.integers(min_value=0, max_value=7)
WORKING = st.integers(min_value=8, max_value=13)
POLICY = st.tuples(
    st.just("policy"),
    st.sampled_from(
        [
            ("min_notice_minutes", (0, 90, 1440)),
            ("horizon_days", (0, 2, 60)),
            ("daily_cap", (None, 1, 2)),
            ("slot_interval_minutes", (15, 30, 60)),
            ("buffer_after_minutes", (0, 10)),
        ]
    ),
    st.integers(0, 2),
)
HOLD = st.tuples(st.just("hold"), NAMES, SOON, WORKING, st.integers(1, 90))
TICK = st.tuples(st.just("tick"), st.sampled_from([1, 29, 60, 600, 1440]))

# One step: (kind, arguments). Every kind is a write some part of the service makes.
STEPS = st.one_of(
    st.tuples(st.just("book"), st.integers(0, 1), NAMES, st.integers(0, 40)),
    HOLD,
    HOLD,
    st.tuples(st.just("status"), st.integers(0, 50), st.sampled_from(["cancelled", "confirmed"])),
    st.tuples(st.just("reassign"), st.integers(0, 50)),
    st.tuples(st.just("move"), st.integers(0, 50), st.sampled_from([-60, 30, 1440])),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("hours"), NAMES, st.integers(0, 6), HOURS, st.integers(1, 6)),
    st.tuples(st.just("clear_hours"), NAMES, st.integers(0, 6)),
    st.tuples(st.just("override"), NAMES, DAYS, st.one_of(st.none(), HOURS)),
    st.tuples(st.just("time_off"), NAMES, DAYS, st.integers(1, 3)),
    st.tuples(st.just("busy"), NAMES, SOON, WORKING, st.integers(15, 300)),
    POLICY,
    POLICY,
    st.tuples(st.just("accepting"), NAMES, st.booleans()),
    st.tuples(st.just("offering"), NAMES, st.booleans()),
    TICK,
    TICK,
)
# A request: therapist, first day after today, days in the window, zone or the default.
REQUESTS = st.tuples(
    st.sampled_from(["ana", "ben", "any"]),
    st.sampled_from([-1, 0, 5, 12]),
    st.sampled_from([1, 28]),
    st.sampled_from([None, "Europe/Berlin"]),
)
POLICY_STEP = ("policy", ("slot_interval_minutes", (15, 30, 60)), 2)
# Asked after every step too, so most answers come from memory the second time.
ALWAYS = [("ana", 5, 1, None), ("any", 0, 28, None), ("ben", 0, 7, "America/Toronto")]


DEFAULT_POLICY: dict[Column | str, Any] = {
    ConsultationType.min_notice_minutes: 0,
    ConsultationType.horizon_days: 60,
    ConsultationType.daily_cap: None,
    ConsultationType.slot_interval_minutes: 30,
    ConsultationType.buffer_after_minutes: 10,
}


@dataclass
class Practice:
    type_id: int
    ids: dict[str, int]


async def practice() -> Practice:
    """The same practice at the start of every example: made on the first, reset after."""
    found = await ConsultationType.select(ConsultationType._meta.primary_key).where(
        ConsultationType.slug == "consult"
    )
    if not found:
        type_id = await make_type("consult", daily_cap=None)
        ids = {
            slug: await make_therapist(slug, timezone=tz, types=(type_id,))
            for slug, tz in THERAPISTS.items()
        }
    else:
        type_id = found[0]["id"]
        rows = await Therapist.select(Therapist._meta.primary_key, Therapist.slug)
        ids = {r["slug"]: r["id"] for r in rows}
        for table in (Booking, WeeklyHoursRule, DateOverride, TimeOff, BusyInterval):
            await table.delete(force=True)
        await TherapistOffering.delete(force=True)
        for therapist_id in ids.values():
            await TherapistOffering.insert(
                TherapistOffering(therapist=therapist_id, consultation_type=type_id)
            )
        await Therapist.update({Therapist.accepting_new_couples: True}, force=True)
        await ConsultationType.update(DEFAULT_POLICY, force=True)
    for therapist_id in ids.values():
        await WeeklyHoursRule.insert(
            *(
                WeeklyHoursRule(
                    therapist=therapist_id, weekday=d, start_time=time(9), end_time=time(13)
                )
                for d in range(5)
            )
        )
    return Practice(type_id, ids)


@asynccontextmanager
async def two_apps(database: Database, clock: FixedClock) -> AsyncIterator[list[Any]]:
    async with AsyncExitStack() as stack:
        clients = []
        for _ in range(2):
            app = create_app(Settings.from_env(), database.engine, clock)
            await stack.enter_async_context(app.lifespan())
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=asgi_transport(app), base_url="http://t")
                )
            )
        yield clients


def local(name: str, day: int, hour: int, minute: int = 0) -> datetime:
    wall = datetime.combine(TODAY + timedelta(days=day), time(hour, minute))
    return wall.replace(tzinfo=ZoneInfo(THERAPISTS[name]))


async def nth_booking(k: int) -> dict[str, Any] | None:
    rows = await Booking.select(Booking._meta.primary_key, Booking.therapist).order_by(
        Booking._meta.primary_key
    )
    return rows[k % len(rows)] if rows else None


async def apply(step: tuple[Any, ...], p: Practice, clock: FixedClock, apps: list[Any]) -> None:
    """One write of the program. A direct write that would give a therapist two live bookings
    at once is refused by PostgreSQL's no-overlap constraint, as the service's own writes
    are: such a step changes nothing, and the answers are compared all the same."""
    with suppress(ExclusionViolationError):
        await _apply(step, p, clock, apps)


async def _apply(step: tuple[Any, ...], p: Practice, clock: FixedClock, apps: list[Any]) -> None:
    kind, *args = step
    if kind == "book":
        app, name, nth = args
        found = await apps[app].get(
            "/api/v1/availability", params={"consultation_type": "consult", "therapist": name}
        )
        slots = found.json().get("slots", []) if found.status_code == 200 else []
        if slots:
            start = slots[nth % len(slots)]["start"]
            body = booking_request(start, therapist=name)
            response = await apps[app].post("/api/v1/bookings", json=body)
            assert response.status_code in (201, 409, 422), response.text
    elif kind == "hold":
        name, day, hour, minutes = args
        await add_booking(
            p.ids[name],
            p.type_id,
            local(name, day, hour),
            status="pending_payment",
            hold_expires_at=clock.now + timedelta(minutes=minutes),
        )
    elif kind in ("status", "reassign", "move", "delete"):
        row = await nth_booking(args[0])
        if row is None:
            return
        where = Booking._meta.primary_key == row["id"]
        if kind == "status":
            await Booking.update({Booking.status: args[1]}).where(where)
        elif kind == "reassign":
            other = next(i for i in p.ids.values() if i != row["therapist"])
            await Booking.update({Booking.therapist: other}).where(where)
        elif kind == "move":
            shift = timedelta(minutes=args[1])
            await Booking.update(
                {
                    Booking.starts_at: Booking.starts_at + shift,
                    Booking.ends_at: Booking.ends_at + shift,
                    Booking.blocked_until: Booking.blocked_until + shift,
                }
            ).where(where)
        else:
            await Booking.delete().where(where)
    elif kind == "hours":
        name, weekday, hour, length = args
        await WeeklyHoursRule.insert(
            WeeklyHoursRule(
                therapist=p.ids[name],
                weekday=weekday,
                start_time=time(hour),
                end_time=time(min(hour + length, 23)),
            )
        )
    elif kind == "clear_hours":
        name, weekday = args
        await WeeklyHoursRule.delete().where(
            (WeeklyHoursRule.therapist == p.ids[name]) & (WeeklyHoursRule.weekday == weekday)
        )
    elif kind == "override":
        name, day, hour = args
        the_day = TODAY + timedelta(days=day)
        await DateOverride.delete().where(
            (DateOverride.therapist == p.ids[name]) & (DateOverride.day == the_day)
        )
        override: DateOverride
        if hour is None:
            override = DateOverride(therapist=p.ids[name], day=the_day, closed=True)
        else:
            override = DateOverride(
                therapist=p.ids[name], day=the_day, start_time=time(hour), end_time=time(hour + 3)
            )
        await DateOverride.insert(override)
    elif kind == "time_off":
        name, day, days = args
        start = local(name, day, 0)
        await TimeOff.insert(
            TimeOff(therapist=p.ids[name], starts_at=start, ends_at=start + timedelta(days=days))
        )
    elif kind == "busy":
        name, day, hour, minutes = args
        start = local(name, day, hour)
        await BusyInterval.insert(
            BusyInterval(
                therapist=p.ids[name], starts_at=start, ends_at=start + timedelta(minutes=minutes)
            )
        )
    elif kind == "policy":
        (column, values), which = args
        await ConsultationType.update({column: values[which % len(values)]}).where(
            ConsultationType._meta.primary_key == p.type_id
        )
    elif kind == "accepting":
        name, accepting = args
        await Therapist.update({Therapist.accepting_new_couples: accepting}).where(
            Therapist._meta.primary_key == p.ids[name]
        )
    elif kind == "offering":
        name, offered = args
        await TherapistOffering.delete().where(TherapistOffering.therapist == p.ids[name])
        if offered:
            await TherapistOffering.insert(
                TherapistOffering(therapist=p.ids[name], consultation_type=p.type_id)
            )
    else:
        clock.now += timedelta(minutes=args[0])


async def uncached(
    service: AvailabilityService, params: dict[str, str]
) -> tuple[int, bytes | None]:
    """What the service answers without any cache: the status, and the body when 200."""
    first = date.fromisoformat(params["start"])
    last = date.fromisoformat(params["end"])
    tz = ZoneInfo(params["tz"]) if "tz" in params else None
    try:
        found = await service.find("consult", params["therapist"], first, last, tz)
    except ServiceError as exc:
        return exc.status_code, None
    return 200, msgspec.json.encode(availability_out(found))


async def check(
    apps: list[Any], service: AvailabilityService, request: tuple[Any, ...], step: object
) -> None:
    therapist, offset, days, tz = request
    first = TODAY + timedelta(days=offset)
    params = {
        "consultation_type": "consult",
        "therapist": therapist,
        "start": first.isoformat(),
        "end": (first + timedelta(days=days - 1)).isoformat(),
    }
    if tz is not None:
        params["tz"] = tz
    status, body = await uncached(service, params)
    for i, app in enumerate(apps):
        response = await app.get("/api/v1/availability", params=params)
        assert response.status_code == status, (i, step, params, response.text)
        if body is not None:
            assert response.content == body, (i, step, params)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Each kind of staleness once for certain, before the random programs.
@example(program=[(("tick", 1), []), (POLICY_STEP, [])])
@example(program=[(("hold", "ana", 5, 9, 30), []), (("tick", 29), []), (("tick", 1), [])])
@example(program=[(("book", 1, "ana", 0), []), (("reassign", 0), []), (("move", 0, 30), [])])
@example(program=[(("accepting", "ana", False), []), (("offering", "ben", False), [])])
@example(program=[(("busy", "ben", 0, 9, 60), []), (("override", "ana", 5, 10), [])])
@given(program=st.lists(st.tuples(STEPS, st.lists(REQUESTS, max_size=2)), min_size=4, max_size=25))
async def test_cached_answers_match_uncached_ones_across_two_apps(
    database: Database, program: list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]
) -> None:
    clock = FixedClock(NOW)
    p = await practice()
    service = AvailabilityService("America/Toronto", LiveBookings(), clock)
    async with two_apps(database, clock) as apps:
        for step, requests in program:
            await apply(step, p, clock, apps)
            for request in [*ALWAYS, *requests]:
                await check(apps, service, request, step)


async def test_a_write_by_one_app_is_seen_by_the_other_at_its_next_request(
    database: Database,
) -> None:
    clock = FixedClock(NOW)
    await practice()
    params = {"consultation_type": "consult", "therapist": "ana", "start": "2026-12-07"}
    params["end"] = params["start"]
    async with two_apps(database, clock) as (first, second):
        before = (await second.get("/api/v1/availability", params=params)).json()["slots"]
        booked = await first.post(
            "/api/v1/bookings", json=booking_request(before[0]["start"], therapist="ana")
        )
        after = (await second.get("/api/v1/availability", params=params)).json()["slots"]

    assert booked.status_code == 201, booked.text
    assert before[0] not in after
    assert after == [s for s in before if s["start"] >= before[2]["start"]]


async def test_a_lapsed_hold_frees_its_slot_without_any_write(database: Database) -> None:
    clock = FixedClock(NOW)
    p = await practice()
    start = local("ana", 5, 9)
    await add_booking(
        p.ids["ana"],
        p.type_id,
        start,
        status="pending_payment",
        hold_expires_at=NOW + timedelta(minutes=15),
    )
    params = {"consultation_type": "consult", "therapist": "ana", "start": "2026-12-07"}
    params["end"] = params["start"]
    wanted = start.isoformat()
    async with two_apps(database, clock) as (app, _):
        held = (await app.get("/api/v1/availability", params=params)).json()["slots"]
        clock.now += timedelta(minutes=15)
        lapsed = (await app.get("/api/v1/availability", params=params)).json()["slots"]

    assert wanted not in [s["start"] for s in held]
    assert wanted in [s["start"] for s in lapsed]
    assert start.astimezone(UTC) > NOW
