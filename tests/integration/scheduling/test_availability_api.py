"""GET /api/v1/availability through the app, on every configured database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from httpx import AsyncClient

from tests.factories import (
    add_booking,
    add_busy,
    add_override,
    add_time_off,
    make_therapist,
    make_type,
)
from tests.integration.conftest import FixedClock

TORONTO = ZoneInfo("America/Toronto")
MONDAY = "2026-12-07"  # the clock reads Wednesday 2026-12-02, 10:00 in Toronto


def at(day: str, clock: str, tz: ZoneInfo = TORONTO) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=tz)


async def slots(client: AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/api/v1/availability", params=params)
    assert response.status_code == 200, response.text
    return [s["start"] for s in response.json()["slots"]]


async def monday_times(client: AsyncClient, **params: Any) -> list[str]:
    found = await slots(
        client, consultation_type="consult", therapist="ana", start=MONDAY, end=MONDAY, **params
    )
    return [s[11:16] for s in found]


async def ana(**type_fields: Any) -> tuple[int, int]:
    """A 50-minute consultation (+10 min buffer) with Ana, Mondays 09:00-12:00 in Toronto."""
    type_id = await make_type("consult", **type_fields)
    therapist_id = await make_therapist("ana", types=(type_id,), hours=((0, "09:00", "12:00"),))
    return type_id, therapist_id


async def test_slots_step_by_the_interval_and_fit_inside_the_hours(client: AsyncClient) -> None:
    await ana()
    assert await monday_times(client) == ["09:00", "09:30", "10:00", "10:30", "11:00"]


async def test_slot_end_is_start_plus_duration_in_the_requested_zone(
    client: AsyncClient,
) -> None:
    await ana()
    response = await client.get(
        "/api/v1/availability",
        params={
            "consultation_type": "consult",
            "therapist": "ana",
            "start": MONDAY,
            "end": MONDAY,
            "tz": "Europe/London",
        },
    )
    body = response.json()
    assert body["timezone"] == "Europe/London"
    assert body["slots"][0] == {
        "start": "2026-12-07T14:00:00+00:00",
        "end": "2026-12-07T14:50:00+00:00",
        "therapist": "ana",
    }


async def test_a_booking_blocks_its_time_and_buffer_but_back_to_back_is_allowed(
    client: AsyncClient,
) -> None:
    type_id, therapist_id = await ana()
    await add_booking(therapist_id, type_id, at(MONDAY, "10:00"))  # blocks 10:00-11:00
    # 09:00 ends with its buffer at 10:00 exactly; 09:30 would run into the booking.
    assert await monday_times(client) == ["09:00", "11:00"]


async def test_a_candidate_buffer_may_not_overlap_busy_time(client: AsyncClient) -> None:
    _, therapist_id = await ana()
    await add_busy(therapist_id, at(MONDAY, "10:55"), at(MONDAY, "11:00"))
    # 10:00 ends at 10:50 but its buffer runs to 11:00, into the busy time.
    assert await monday_times(client) == ["09:00", "09:30", "11:00"]


async def test_time_off_blocks_exactly_its_range(client: AsyncClient) -> None:
    _, therapist_id = await ana()
    await add_time_off(therapist_id, at(MONDAY, "09:00"), at(MONDAY, "10:30"))
    assert await monday_times(client) == ["10:30", "11:00"]


async def test_cancelled_bookings_and_expired_holds_free_their_time(
    client: AsyncClient, clock: FixedClock
) -> None:
    type_id, therapist_id = await ana()
    await add_booking(therapist_id, type_id, at(MONDAY, "09:00"), status="cancelled")
    await add_booking(therapist_id, type_id, at(MONDAY, "10:00"), status="expired")
    await add_booking(
        therapist_id,
        type_id,
        at(MONDAY, "11:00"),
        status="pending_payment",
        hold_expires_at=clock.now - timedelta(seconds=1),
    )
    assert await monday_times(client) == ["09:00", "09:30", "10:00", "10:30", "11:00"]


async def test_a_live_hold_blocks_its_slot(client: AsyncClient, clock: FixedClock) -> None:
    type_id, therapist_id = await ana()
    await add_booking(
        therapist_id,
        type_id,
        at(MONDAY, "11:00"),
        status="pending_payment",
        hold_expires_at=clock.now + timedelta(minutes=15),
    )
    assert await monday_times(client) == ["09:00", "09:30", "10:00"]


async def test_minimum_notice_counts_from_the_request_time(
    client: AsyncClient, clock: FixedClock
) -> None:
    await ana(min_notice_minutes=60)
    clock.now = at(MONDAY, "09:30").astimezone(UTC)
    assert await monday_times(client) == ["10:30", "11:00"]


async def test_horizon_ends_at_the_last_local_date(client: AsyncClient, clock: FixedClock) -> None:
    await ana(horizon_days=5)
    clock.now = at("2026-12-02", "23:30")  # Wednesday; horizon reaches Monday the 7th
    found = await slots(
        client, consultation_type="consult", therapist="ana", start="2026-12-07", end="2026-12-21"
    )
    assert {s[:10] for s in found} == {"2026-12-07"}


async def test_daily_cap_closes_a_date_with_enough_bookings(client: AsyncClient) -> None:
    type_id, therapist_id = await ana(daily_cap=1, buffer_after_minutes=0)
    await add_booking(therapist_id, type_id, at(MONDAY, "09:00"), buffer_minutes=0)
    assert await monday_times(client) == []
    found = await slots(
        client, consultation_type="consult", therapist="ana", start="2026-12-14", end="2026-12-14"
    )
    assert len(found) == 5


async def test_a_date_override_replaces_the_weekly_hours(client: AsyncClient) -> None:
    _, therapist_id = await ana()
    await add_override(therapist_id, datetime.fromisoformat(MONDAY).date(), ("14:00", "15:00"))
    await add_override(therapist_id, datetime.fromisoformat("2026-12-14").date())
    assert await monday_times(client) == ["14:00"]
    assert (
        await slots(
            client,
            consultation_type="consult",
            therapist="ana",
            start="2026-12-14",
            end="2026-12-14",
        )
        == []
    )


async def test_any_therapist_merges_sorted_by_start_then_therapist(
    client: AsyncClient,
) -> None:
    type_id = await make_type("consult")
    await make_therapist("bea", types=(type_id,), hours=((0, "09:00", "10:00"),))
    await make_therapist("ana", types=(type_id,), hours=((0, "09:00", "10:00"),))
    await make_therapist(
        "cy", timezone="America/Vancouver", types=(type_id,), hours=((0, "06:00", "07:00"),)
    )
    response = await client.get(
        "/api/v1/availability",
        params={"consultation_type": "consult", "start": MONDAY, "end": MONDAY},
    )
    body = response.json()
    assert body["timezone"] == "America/Toronto"  # the practice's zone for "any"
    assert [(s["start"][11:16], s["therapist"]) for s in body["slots"]] == [
        ("09:00", "ana"),
        ("09:00", "bea"),
        ("09:00", "cy"),
    ]


async def test_therapists_not_taking_new_couples_offer_no_times(client: AsyncClient) -> None:
    type_id = await make_type("consult")
    await make_therapist(
        "ana", types=(type_id,), hours=((0, "09:00", "12:00"),), accepting_new_couples=False
    )
    assert await monday_times(client) == []


async def test_therapist_times_across_a_clock_change_in_the_visitor_zone(
    client: AsyncClient, clock: FixedClock
) -> None:
    # Toronto springs forward on 2027-03-14; London only on 2027-03-28.
    clock.now = datetime(2027, 3, 1, tzinfo=UTC)
    type_id = await make_type("consult")
    await make_therapist("ana", types=(type_id,), hours=((0, "09:00", "10:00"),))
    found = await slots(
        client,
        consultation_type="consult",
        therapist="ana",
        start="2027-03-08",
        end="2027-03-15",
        tz="Europe/London",
    )
    assert found == ["2027-03-08T14:00:00+00:00", "2027-03-15T13:00:00+00:00"]


async def test_defaults_use_the_therapist_zone_and_two_weeks_from_today(
    client: AsyncClient,
) -> None:
    type_id = await make_type("consult")
    await make_therapist(
        "cy",
        timezone="America/Vancouver",
        types=(type_id,),
        hours=tuple((d, "09:00", "10:00") for d in range(7)),
    )
    response = await client.get(
        "/api/v1/availability", params={"consultation_type": "consult", "therapist": "cy"}
    )
    body = response.json()
    assert body["timezone"] == "America/Vancouver"
    days = [s["start"][:10] for s in body["slots"]]
    # Today (Wednesday 2 December, 07:00 in Vancouver) through 13 days later.
    assert days == [f"2026-12-{d:02d}" for d in range(2, 16)]
    assert body["slots"][0]["start"].endswith("-08:00")
