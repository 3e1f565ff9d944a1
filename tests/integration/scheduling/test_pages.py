"""The public pages a couple sees, rendered from the same services as the API."""

from __future__ import annotations

import re

from httpx import AsyncClient

from tests.factories import make_therapist, make_type

HTML = {"Accept": "text/html"}


async def practice() -> None:
    call = await make_type("intro-call", name="Free call", duration_minutes=15, position=1)
    consult = await make_type(
        "couples",
        name="Couples consultation",
        price_amount=15000,
        deposit_amount=5000,
        position=2,
    )
    await make_therapist(
        "ana",
        name="Ana Lima",
        types=(call, consult),
        hours=tuple((d, "09:00", "12:00") for d in range(5)),
    )
    await make_therapist("ben", name="Ben Roy", types=(consult,), accepting_new_couples=False)


async def test_directory_lists_therapists_types_fees_and_the_advice_note(
    client: AsyncClient,
) -> None:
    await practice()
    page = (await client.get("/", headers=HTML)).text
    assert "Ana Lima" in page
    assert "Ben Roy" in page
    assert "Not taking new couples" in page
    assert "$150.00 CAD" in page
    assert "deposit $50.00 CAD" in page
    assert "Nothing on this site is therapeutic or medical advice" in page


async def test_therapist_page_links_to_their_times(client: AsyncClient) -> None:
    await practice()
    page = (await client.get("/therapists/ana", headers=HTML)).text
    assert "<h1>Ana Lima</h1>" in page
    assert 'href="/times?type=intro-call&amp;therapist=ana"' in page


async def test_times_page_shows_slots_in_the_chosen_zone_next_available_first(
    client: AsyncClient,
) -> None:
    await practice()
    page = (
        await client.get(
            "/times",
            params={
                "type": "intro-call",
                "therapist": "ana",
                "tz": "America/Vancouver",
                "start": "2026-12-07",
            },
            headers=HTML,
        )
    ).text
    # Ana works from 09:00 in Toronto: 6:00 a.m. in Vancouver.
    assert "Next available: <strong>Monday 7 December 2026 at 6:00 a.m.</strong>" in page
    times = re.findall(r'<time datetime="([^"]+)">', page)
    assert times[0] == "2026-12-07T06:00:00-08:00"
    assert times == sorted(times)
    assert '<option value="America/Vancouver" selected>' in page


async def test_paid_types_show_their_fee_but_are_not_offered_for_booking(
    client: AsyncClient,
) -> None:
    await practice()
    page = (await client.get("/times", params={"type": "couples"}, headers=HTML)).text
    assert "This consultation costs $150.00 CAD" in page
    assert (
        "Online payment is not available at the moment, so it cannot be booked here"
        in page.replace("\n    ", " ")
    )


async def test_times_page_explains_a_bad_zone_instead_of_failing(client: AsyncClient) -> None:
    await practice()
    response = await client.get("/times", params={"tz": "Nowhere/Land"}, headers=HTML)
    assert response.status_code == 422
    assert "is not a known IANA time zone name" in response.text


async def test_unknown_therapist_page_is_a_friendly_404(client: AsyncClient) -> None:
    response = await client.get("/therapists/nobody", headers=HTML)
    assert response.status_code == 404
    assert "We could not find that page" in response.text
