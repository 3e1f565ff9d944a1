"""The directory as JSON: therapists and consultation types."""

from __future__ import annotations

from httpx import AsyncClient

from tests.factories import make_therapist, make_type


async def test_therapists_list_active_ones_with_the_types_they_offer(client: AsyncClient) -> None:
    call = await make_type("call", position=1)
    consult = await make_type("consult", position=2)
    await make_type("retired", active=False)
    await make_therapist(
        "ana",
        types=(consult, call),
        credentials="RP",
        bio="Works with couples.",
        languages=["English", "French"],
        modes=["video", "phone"],
    )
    await make_therapist("gone", types=(call,), active=False)

    response = await client.get("/api/v1/therapists")

    assert response.status_code == 200
    assert response.json() == [
        {
            "slug": "ana",
            "name": "Ana",
            "credentials": "RP",
            "bio": "Works with couples.",
            "timezone": "America/Toronto",
            "languages": ["English", "French"],
            "modes": ["video", "phone"],
            "consultation_types": ["call", "consult"],
            "accepting_new_couples": True,
        }
    ]


async def test_consultation_types_carry_money_in_minor_units_and_their_policy(
    client: AsyncClient,
) -> None:
    await make_type("call", duration_minutes=15, modes=["phone"], position=1)
    await make_type(
        "consult",
        price_amount=15000,
        deposit_amount=5000,
        daily_cap=3,
        position=2,
        modes=["in_person", "video"],
    )

    body = (await client.get("/api/v1/consultation-types")).json()

    assert [t["slug"] for t in body] == ["call", "consult"]
    call, consult = body
    assert call["price"] is None
    assert call["deposit"] is None
    assert call["duration_minutes"] == 15
    assert consult["price"] == {"amount": 15000, "currency": "cad"}
    assert consult["deposit"] == {"amount": 5000, "currency": "cad"}
    assert consult["modes"] == ["in_person", "video"]
    assert consult["policy"]["daily_cap"] == 3
    assert consult["policy"]["buffer_after_minutes"] == 10


async def test_one_therapist_by_slug(client: AsyncClient) -> None:
    await make_therapist("ana")
    response = await client.get("/api/v1/therapists/ana")
    assert response.status_code == 200
    assert response.json()["slug"] == "ana"
