"""A therapist asking for another therapist's booking, by reference or through any staff URL
naming them, gets 404 (the same as what does not exist) and reads or changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from booking.core.audit import AuditEvent
from booking.scheduling.tables import Therapist, TimeOff, WeeklyHoursRule
from tests.factories import make_therapist
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, Practice
from tests.integration.workspace.conftest import book
from tests.staff_support import create_staff, csrf_token, sign_in

HTML = {"accept": "text/html"}
# The controllers of the therapist's workspace: each of their routes acts for a therapist.
WORKSPACE = ("WorkspacePages.", "HoursPages.")


def staff_routes(app: Litestar) -> list[tuple[str, str, str]]:
    """(method, path template, handler) of every route under /staff, from the route table."""
    found = []
    for route in app.routes:
        if not route.path.startswith("/staff"):
            continue
        for handler in getattr(route, "route_handlers", []):
            name = handler.fn.__qualname__
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                found.append((method, route.path, name))
    return found


async def test_every_staff_url_naming_another_therapist_or_their_booking_is_404(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    reference = await book(client, AT_10)
    # A time off entry of Ana's, which another could try to remove.
    ana_entry = await _ana_time_off(practice.therapist_id)
    await make_therapist("ben", name="Ben Ortiz")
    ben = await create_staff(therapist="ben")
    assert (await sign_in(client, ben, at=clock.now)).status_code == 303
    token = csrf_token((await client.get("/staff/hours", headers=HTML)).text)
    before = await _state(practice.therapist_id)

    routes = staff_routes(client.app)
    with_reference = [r for r in routes if "{reference" in r[1]]
    workspace = [r for r in routes if r[2].startswith(WORKSPACE)]
    assert {(m, p) for m, p, _ in workspace} >= {
        ("GET", "/staff"),
        ("GET", "/staff/hours"),
        ("POST", "/staff/hours"),
        ("GET", "/staff/bookings/{reference:str}"),
        ("POST", "/staff/bookings/{reference:str}/complete"),
        ("GET", "/staff/feed"),
        ("POST", "/staff/feed/rotate"),
        ("POST", "/staff/time-off/remove"),
    }
    answers = {}
    for method, template, _ in {*with_reference, *workspace}:
        path = re.sub(r"\{reference[^}]*\}", reference, template)
        if method == "GET":
            response = await client.get(path, params={"therapist": "ana"}, headers=HTML)
        else:
            response = await client.post(
                path,
                data={
                    "_csrf_token": token,
                    "therapist": "ana",
                    "entry": str(ana_entry),
                    "day": "mon",
                    "start": "09:00",
                    "end": "10:00",
                    "invitations": "off",
                    "starts_at": "2026-12-20T09:00",
                    "ends_at": "2026-12-20T10:00",
                },
                headers=HTML,
            )
        answers[(method, template)] = response.status_code

    assert answers == dict.fromkeys(answers, 404)
    assert await _state(practice.therapist_id) == before
    reads = await AuditEvent.count().where(
        AuditEvent.action.is_in(["intake.listed", "intake.viewed"])
    )
    assert reads == 0
    # Ben's own pages still answer: the 404s are about Ana, not a broken session.
    assert (await client.get("/staff/hours", headers=HTML)).status_code == 200


async def _ana_time_off(therapist_id: int) -> int:
    (row,) = await TimeOff.insert(
        TimeOff(
            therapist=therapist_id,
            starts_at=datetime(2026, 12, 21, 14, tzinfo=UTC),
            ends_at=datetime(2026, 12, 21, 16, tzinfo=UTC),
        )
    ).returning(TimeOff._meta.primary_key)
    return int(row["id"])


async def _state(therapist_id: int) -> tuple[Any, ...]:
    return (
        await WeeklyHoursRule.select(
            WeeklyHoursRule.weekday, WeeklyHoursRule.start_time, WeeklyHoursRule.end_time
        ).where(WeeklyHoursRule.therapist == therapist_id),
        await TimeOff.count().where(TimeOff.therapist == therapist_id),
        await Therapist.select(
            Therapist.feed_generation, Therapist.email_invitations, Therapist.feed_token_hash
        ).where(Therapist._meta.primary_key == therapist_id),
    )
