"""The second partner's own private page: their questions, their consents, their answer."""

from __future__ import annotations

import re

from httpx import AsyncClient

from booking.intake.questionnaire import load_questionnaire
from booking.notifications.tables import OutboxMessage
from tests.integration.pages.conftest import (
    HTML,
    PRIVATE_ANSWER,
    assert_private,
    book,
    intake_path,
    partner_form,
    reference_on,
)
from tests.integration.practice import Practice


async def partner_link(client: AsyncClient) -> str:
    manage = await book(client)
    return intake_path(reference_on((await client.get(manage, headers=HTML)).text))


async def test_the_partner_page_asks_only_their_own_private_part(
    client: AsyncClient, practice: Practice
) -> None:
    link = await partner_link(client)

    response = await client.get(link, headers=HTML)

    assert response.status_code == 200
    assert_private(response)
    page = response.text
    assert "Your part, Sam Park" in page
    assert "Your partner will never see these answers." in page
    for q in load_questionnaire().questions_for("each_partner"):
        assert f'id="f-answers-{q.id}"' in page
    assert "hoped_for_help" not in page
    assert PRIVATE_ANSWER not in page  # the booker's own answers stay theirs
    assert page.count('type="checkbox" id="f-consents-') == 4


async def test_the_partners_answers_are_thanked_for(
    client: AsyncClient, practice: Practice
) -> None:
    link = await partner_link(client)

    response = await client.post(link, data=partner_form(), headers=HTML)

    assert response.status_code == 200
    assert_private(response)
    assert "Thank you, Sam Park" in response.text
    assert "If you would like support" not in response.text
    again = (await client.get(link, headers=HTML)).text
    assert "You have already answered" in again


async def test_missing_answers_come_back_with_messages_and_what_was_typed(
    client: AsyncClient, practice: Practice
) -> None:
    link = await partner_link(client)
    form = partner_form(
        **{
            "answers.safe_at_home": "",
            "answers.trust_in_care": "",
            "answers.private_contact": "Text me after 6",
            "consents.email": "",
        }
    )

    response = await client.post(link, data=form, headers=HTML)

    assert response.status_code == 422
    assert_private(response)
    page = response.text
    assert 'role="alert"' in page
    for field in ("f-answers-safe_at_home", "f-answers-trust_in_care", "f-consents-email"):
        assert f'href="#{field}"' in page
    assert 'value="Text me after 6"' in page
    assert re.search(
        r'name="answers.communication_satisfaction" value="5"\s+id="[^"]+" checked', page
    )
    assert re.search(r'name="answers.trust_strains" value="distance"\s+id="[^"]+" checked', page)


async def test_a_partner_whose_answers_raise_a_flag_sees_support_calmly(
    client: AsyncClient, practice: Practice
) -> None:
    link = await partner_link(client)

    response = await client.post(
        link, data=partner_form(**{"answers.harmed_past_year": "prefer_private"}), headers=HTML
    )

    assert response.status_code == 200
    page = response.text
    assert "Thank you, Sam Park" in page
    assert "If you would like support" in page
    assert "9-8-8" in page
    assert "1-866-863-0511" in page


async def test_a_flag_raised_on_the_page_queues_a_notice_to_the_practice_only(
    client: AsyncClient, practice: Practice
) -> None:
    link = await partner_link(client)
    await client.post(link, data=partner_form(), headers=HTML)
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "practice") == 0

    await client.post(
        link, data=partner_form(**{"answers.harmed_past_year": "prefer_private"}), headers=HTML
    )

    notices = await OutboxMessage.select(OutboxMessage.kind).where(
        OutboxMessage.recipient == "practice"
    )
    assert notices == [{"kind": "safety_alert"}]


async def test_a_wrong_or_ended_intake_link_is_a_friendly_404(
    client: AsyncClient, practice: Practice
) -> None:
    manage = await book(client)
    link = intake_path(reference_on((await client.get(manage, headers=HTML)).text))
    await client.post(f"{manage}/cancel", data={}, headers=HTML)

    for response in (
        await client.get("/intake/" + "y" * 43),
        await client.post("/intake/short", data=partner_form()),
        await client.get(link),
        await client.post(link, data=partner_form()),
    ):
        assert response.status_code == 404
        assert "We could not find that page" in response.text
        assert_private(response)
