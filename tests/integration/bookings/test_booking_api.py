"""POST /api/v1/bookings and the manage link, as a couple and an embedding site see them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from httpx import AsyncClient

from booking.core.settings import get_settings
from tests.factories import booking_request, partner_answers
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_9, AT_10, AT_11, MONDAY, Practice, manage_token


async def book(client: AsyncClient, start: str = AT_10, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/bookings", json=booking_request(start, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def monday_times(client: AsyncClient) -> list[str]:
    response = await client.get(
        "/api/v1/availability",
        params={"consultation_type": "consult", "therapist": "ana", "start": MONDAY, "end": MONDAY},
    )
    return [s["start"][11:16] for s in response.json()["slots"]]


async def test_booking_a_free_slot_confirms_it_and_takes_it_off_the_times(
    client: AsyncClient, practice: Practice
) -> None:
    body = await book(client)

    assert body["status"] == "confirmed"
    assert body["start"] == AT_10
    assert body["end"] == f"{MONDAY}T10:50:00-05:00"
    assert body["therapist"] == "ana"
    assert body["consultation_type"] == "consult"
    assert body["mode"] == "video"
    assert body["payment"] is None
    assert body["support"] is None
    assert body["manage_url"].startswith(f"{get_settings().public_base_url}/manage/")
    assert len(manage_token(body["manage_url"])) == 43
    # 09:30 would run into the booking; 10:00 and 10:30 are taken or overlap; 11:00 is free.
    assert await monday_times(client) == ["09:00", "11:00"]


async def test_times_are_answered_in_the_zone_the_booker_chose(
    client: AsyncClient, practice: Practice
) -> None:
    body = await book(client, start="2026-12-07T15:00:00Z", timezone="Europe/London")
    assert body["start"] == "2026-12-07T15:00:00+00:00"


async def test_a_start_that_is_not_an_offered_slot_is_refused(
    client: AsyncClient, practice: Practice
) -> None:
    for start in (
        f"{MONDAY}T10:15:00-05:00",
        f"{MONDAY}T11:30:00-05:00",
        "2026-12-08T10:00:00-05:00",
    ):
        response = await client.post("/api/v1/bookings", json=booking_request(start))
        assert response.status_code == 409, start
        assert response.json()["error"]["code"] == "slot_unavailable"


async def test_overlapping_bookings_of_different_lengths_conflict(
    client: AsyncClient, practice: Practice
) -> None:
    from booking.scheduling.tables import TherapistOffering
    from tests.factories import make_type

    short = await make_type(
        "short", duration_minutes=20, slot_interval_minutes=10, buffer_after_minutes=0
    )
    await TherapistOffering.insert(
        TherapistOffering(therapist=practice.therapist_id, consultation_type=short)
    )
    await book(client, start=AT_10)  # 10:00-10:50, blocked until 11:00
    response = await client.post(
        "/api/v1/bookings",
        json=booking_request(f"{MONDAY}T10:40:00-05:00", kind="short"),
    )
    assert response.status_code == 409
    assert (
        await client.post(
            "/api/v1/bookings", json=booking_request(f"{MONDAY}T11:00:00-05:00", kind="short")
        )
    ).status_code == 201


async def test_manage_link_shows_the_booking_without_private_answers(
    client: AsyncClient, practice: Practice
) -> None:
    created = await book(client)
    response = await client.get(f"/api/v1/bookings/{manage_token(created['manage_url'])}")

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in response.headers["x-robots-tag"]
    view = response.json()
    assert view["reference"] == created["reference"]
    assert view["status"] == "confirmed"
    assert view["partners"] == [
        {"name": "Robin Park", "intake_complete": True},
        {"name": "Sam Park", "intake_complete": False},
    ]
    assert view["can_cancel"] is True
    assert view["can_reschedule"] is True
    assert view["refund_on_cancel"] is None
    assert "chores" not in response.text


async def test_cancel_frees_the_time_at_once_and_twice_is_not_an_error(
    client: AsyncClient, practice: Practice
) -> None:
    token = manage_token((await book(client))["manage_url"])

    first = await client.post(f"/api/v1/bookings/{token}/cancel", json={"reason": "Work trip"})
    second = await client.post(f"/api/v1/bookings/{token}/cancel")

    assert first.status_code == 200
    assert first.json() == {"status": "cancelled", "refund": None}
    assert second.json() == {"status": "cancelled", "refund": None}
    assert "10:00" in await monday_times(client)
    rebooked = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert rebooked.status_code == 201
    view = (await client.get(f"/api/v1/bookings/{token}")).json()
    assert view["status"] == "cancelled"
    assert view["can_cancel"] is False


async def test_reschedule_moves_the_same_booking(client: AsyncClient, practice: Practice) -> None:
    created = await book(client)
    token = manage_token(created["manage_url"])

    response = await client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": AT_9})

    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["reference"] == created["reference"]
    assert moved["start"] == AT_9
    assert await monday_times(client) == ["10:00", "10:30", "11:00"]


async def test_reschedule_may_overlap_its_own_old_time(
    client: AsyncClient, practice: Practice
) -> None:
    token = manage_token((await book(client))["manage_url"])
    response = await client.post(
        f"/api/v1/bookings/{token}/reschedule", json={"start": f"{MONDAY}T10:30:00-05:00"}
    )
    assert response.status_code == 200, response.text


async def test_reschedule_to_a_taken_time_is_refused(
    client: AsyncClient, practice: Practice
) -> None:
    await book(client, start=AT_11)
    token = manage_token((await book(client, start=AT_9))["manage_url"])
    response = await client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": AT_11})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_unavailable"


async def test_cut_offs_refuse_late_changes_with_too_late(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    created = await book(client)
    token = manage_token(created["manage_url"])
    start = clock.now.fromisoformat(AT_10)

    clock.now = start - timedelta(hours=23)  # inside the 24-hour reschedule cut-off
    late = await client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": AT_11})
    assert late.status_code == 409
    assert late.json()["error"]["code"] == "too_late"
    assert (await client.get(f"/api/v1/bookings/{token}")).json()["can_reschedule"] is False

    clock.now = start + timedelta(minutes=5)  # the consultation has begun
    cancel = await client.post(f"/api/v1/bookings/{token}/cancel")
    assert cancel.status_code == 409
    assert cancel.json()["error"]["code"] == "too_late"


async def test_manage_link_expires_thirty_days_after_the_consultation(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    token = manage_token((await book(client))["manage_url"])
    clock.now = clock.now.fromisoformat(AT_10) + timedelta(days=31)
    response = await client.get(f"/api/v1/bookings/{token}")
    assert response.status_code == 404


async def test_unknown_or_malformed_manage_tokens_are_404(client: AsyncClient) -> None:
    for token in ("nope", "A" * 43, "../../etc"):
        response = await client.get(f"/api/v1/bookings/{token}")
        assert response.status_code == 404, token
        assert response.json()["error"]["code"] == "not_found"


async def test_a_type_with_a_deposit_is_held_until_its_hold_expires(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    held = await client.post("/api/v1/bookings", json=booking_request(AT_10, kind="paid"))
    assert held.status_code == 201
    body = held.json()
    assert body["status"] == "pending_payment"
    assert body["payment"] is None
    assert body["hold_expires_at"] == (clock.now + timedelta(minutes=15)).isoformat()
    # Held: nobody else can have it.
    assert (await client.post("/api/v1/bookings", json=booking_request(AT_10))).status_code == 409

    clock.now += timedelta(minutes=15)  # the hold runs out, unpaid
    assert "10:00" in await monday_times(client)
    taken = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    assert taken.status_code == 201
    view = await client.get(f"/api/v1/bookings/{manage_token(body['manage_url'])}")
    assert view.json()["status"] == "expired"


async def test_a_safety_flag_returns_support_to_the_booker_only(
    client: AsyncClient, practice: Practice
) -> None:
    body = booking_request(AT_10)
    body["intake"]["booker"] = partner_answers(safe_at_home="not_sure")
    response = await client.post("/api/v1/bookings", json=body)

    assert response.status_code == 201
    support = response.json()["support"]
    assert support["resources"]
    assert any("9-8-8" in r["contact"] for r in support["resources"])
    assert response.json()["status"] == "confirmed"  # the booking itself goes ahead
    view = await client.get(f"/api/v1/bookings/{manage_token(response.json()['manage_url'])}")
    assert "safety" not in view.text
    assert "support" not in view.json()


async def test_the_daily_cap_holds(client: AsyncClient, practice: Practice) -> None:
    from booking.scheduling.tables import ConsultationType

    await ConsultationType.update({ConsultationType.daily_cap: 1}).where(
        ConsultationType.slug == "consult"
    )
    await book(client, start=AT_9)
    response = await client.post("/api/v1/bookings", json=booking_request(AT_11))
    assert response.status_code == 409


async def test_a_couple_can_still_move_when_their_therapist_stops_taking_new_couples(
    client: AsyncClient, practice: Practice
) -> None:
    from booking.scheduling.tables import Therapist

    token = manage_token((await book(client))["manage_url"])
    await Therapist.update({Therapist.accepting_new_couples: False}).where(Therapist.slug == "ana")

    moved = await client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": AT_9})
    page = await client.get(f"/manage/{token}/reschedule", headers={"Accept": "text/html"})

    assert moved.status_code == 200
    assert page.status_code == 200
    # Times that overlap only the booking's own (now 09:00) slot are offered to move to.
    assert f'value="{MONDAY}T09:30:00-05:00"' in page.text
