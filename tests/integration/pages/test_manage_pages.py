"""The manage page both partners reach by link: what it shows, cancel and move by form."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from httpx import AsyncClient

from tests.integration.conftest import FixedClock
from tests.integration.pages.conftest import (
    COUPLE_ANSWER,
    HTML,
    PRIVATE_ANSWER,
    assert_private,
    book,
    intake_path,
    partner_form,
    reference_on,
)
from tests.integration.practice import AT_10, AT_11, MONDAY, Practice

NOT_A_LINK = "/manage/" + "x" * 43


async def offered_times(client: AsyncClient) -> list[str]:
    page = (
        await client.get(
            "/times",
            params={"type": "consult", "therapist": "ana", "start": MONDAY},
            headers=HTML,
        )
    ).text
    return re.findall(r'<time datetime="([^"]+)">', page)


async def test_the_manage_page_shows_the_booking_and_who_has_answered_nothing_private(
    client: AsyncClient, practice: Practice
) -> None:
    manage = await book(client)

    response = await client.get(manage, headers=HTML)

    assert response.status_code == 200
    assert_private(response)
    page = response.text
    assert "Your consultation is booked" not in page
    assert "Monday 7 December 2026, 10:00 a.m. to 10:50 a.m." in page
    assert "America/Toronto time" in page
    assert "Ana Lima" in page
    assert "First conversation, by video" in page
    assert "Confirmed" in page
    assert "Robin Park has answered their part." in page
    assert "Sam Park has not answered their part yet." in page
    assert PRIVATE_ANSWER not in page
    assert COUPLE_ANSWER not in page
    assert f'href="{manage}/reschedule"' in page
    assert f'action="{manage}/cancel"' in page


async def test_the_second_partners_answers_show_as_complete_only(
    client: AsyncClient, practice: Practice
) -> None:
    manage = await book(client)
    reference = reference_on((await client.get(manage, headers=HTML)).text)
    await client.post(
        intake_path(reference),
        data=partner_form(**{"answers.private_contact": "Only on weekdays, 9 to 5"}),
        headers=HTML,
    )

    page = (await client.get(manage, headers=HTML)).text
    assert "Sam Park has answered their part." in page
    assert "Only on weekdays" not in page


async def test_cancelling_by_form_frees_the_time_and_hides_the_controls(
    client: AsyncClient, practice: Practice
) -> None:
    manage = await book(client)
    assert AT_10 not in await offered_times(client)

    response = await client.post(
        f"{manage}/cancel", data={"reason": "We found a time closer to home."}, headers=HTML
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"{manage}?done=cancelled"
    assert_private(response)
    page = (await client.get(response.headers["location"], headers=HTML)).text
    assert "The consultation is cancelled." in page
    assert "Cancelled" in page
    assert "/cancel" not in page
    assert "/reschedule" not in page
    assert "has not answered" not in page
    assert AT_10 in await offered_times(client)


async def test_cancelling_twice_is_calm(client: AsyncClient, practice: Practice) -> None:
    manage = await book(client)
    await client.post(f"{manage}/cancel", data={}, headers=HTML)
    again = await client.post(f"{manage}/cancel", data={"reason": ""}, headers=HTML)
    assert again.status_code == 303


async def test_a_too_long_reason_comes_back_with_the_reason_kept(
    client: AsyncClient, practice: Practice
) -> None:
    manage = await book(client)
    reason = "because " * 70
    response = await client.post(f"{manage}/cancel", data={"reason": reason}, headers=HTML)
    assert response.status_code == 422
    assert "at most 500 characters" in response.text
    assert reason.strip() in response.text
    assert '<details class="cancel" open>' in response.text


async def test_cancelling_after_the_start_is_refused_on_the_page(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    manage = await book(client)
    clock.now = datetime.fromisoformat(AT_10) + timedelta(minutes=5)

    page = (await client.get(manage, headers=HTML)).text
    assert "/cancel" not in page
    assert "/reschedule" not in page

    response = await client.post(f"{manage}/cancel", data={}, headers=HTML)
    assert response.status_code == 409
    assert "can no longer be cancelled" in response.text
    assert_private(response)


async def test_moving_by_form_lists_the_same_therapists_times_and_moves_the_booking(
    client: AsyncClient, practice: Practice
) -> None:
    manage = await book(client)

    listing = await client.get(f"{manage}/reschedule", params={"start": MONDAY}, headers=HTML)
    assert listing.status_code == 200
    assert_private(listing)
    starts = re.findall(r'name="start" value="([^"]+)"', listing.text)
    assert AT_11 in starts
    assert AT_10 not in starts

    response = await client.post(f"{manage}/reschedule", data={"start": AT_11}, headers=HTML)

    assert response.status_code == 303
    assert response.headers["location"] == f"{manage}?done=rescheduled"
    page = (await client.get(response.headers["location"], headers=HTML)).text
    assert "has moved to its new time" in page
    assert "Monday 7 December 2026, 11:00 a.m. to 11:50 a.m." in page
    assert AT_10 in await offered_times(client)


async def test_moving_to_a_time_that_is_not_offered_is_explained(
    client: AsyncClient, practice: Practice
) -> None:
    manage = await book(client)
    response = await client.post(
        f"{manage}/reschedule", data={"start": f"{MONDAY}T10:15:00-05:00"}, headers=HTML
    )
    assert response.status_code == 409
    assert "no longer available" in response.text
    assert 'role="alert"' in response.text


async def test_moving_after_the_cut_off_is_refused_on_the_page(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    manage = await book(client)
    clock.now = datetime.fromisoformat(AT_10) - timedelta(hours=2)

    page = (await client.get(manage, headers=HTML)).text
    assert "/reschedule" not in page
    assert f'action="{manage}/cancel"' in page

    listing = await client.get(f"{manage}/reschedule", headers=HTML)
    assert "can no longer be moved online" in listing.text
    response = await client.post(f"{manage}/reschedule", data={"start": AT_11}, headers=HTML)
    assert response.status_code == 409
    assert "24 hours before they start" in response.text


async def test_a_wrong_manage_link_is_a_friendly_private_404(
    client: AsyncClient, practice: Practice
) -> None:
    for response in (
        await client.get(NOT_A_LINK),
        await client.get(f"{NOT_A_LINK}/reschedule"),
        await client.post(f"{NOT_A_LINK}/cancel", data={}),
        await client.post(f"{NOT_A_LINK}/reschedule", data={"start": AT_11}),
    ):
        assert response.status_code == 404
        assert "We could not find that page" in response.text
        assert "not valid or has expired" in response.text
        assert_private(response)
