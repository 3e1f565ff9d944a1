"""The times page's links and the booking form, driven as a browser drives them (form posts)."""

from __future__ import annotations

import re

from httpx import AsyncClient
from markupsafe import escape

from booking.bookings.tables import Booking
from booking.intake.consents import load_consents
from booking.intake.questionnaire import load_questionnaire
from tests.integration.pages.conftest import (
    COUPLE_ANSWER,
    HTML,
    PRIVATE_ANSWER,
    assert_private,
    book,
    book_query,
    booking_form,
    reference_on,
)
from tests.integration.practice import MONDAY, Practice


async def test_free_slots_on_the_times_page_link_to_the_booking_form(
    client: AsyncClient, practice: Practice
) -> None:
    page = (
        await client.get(
            "/times",
            params={"type": "consult", "therapist": "ana", "start": MONDAY, "tz": "Europe/London"},
            headers=HTML,
        )
    ).text
    links = re.findall(r'href="(/book\?[^"]+)"', page)
    assert links[0] == (
        "/book?type=consult&amp;therapist=ana&amp;start=2026-12-07T14%3A00%3A00%2B00%3A00"
        "&amp;tz=Europe%2FLondon"
    )
    assert len(links) == len(re.findall(r'<time datetime="', page))


async def test_paid_types_without_stripe_keys_show_times_without_booking_links(
    client: AsyncClient, practice: Practice
) -> None:
    page = (
        await client.get(
            "/times", params={"type": "paid", "therapist": "ana", "start": MONDAY}, headers=HTML
        )
    ).text
    assert (
        "Online payment is not available at the moment, so it cannot be booked here"
        in page.replace("\n    ", " ")
    )
    assert '<time datetime="2026-12-07T09:00:00-05:00">' in page
    assert "/book?" not in page


async def test_the_form_shows_the_chosen_time_in_the_chosen_zone(
    client: AsyncClient, practice: Practice
) -> None:
    response = await client.get("/book", params=book_query(tz="America/Vancouver"), headers=HTML)
    assert response.status_code == 200
    assert "Monday 7 December 2026, 7:00 a.m. to 7:50 a.m." in response.text
    assert "America/Vancouver time" in response.text
    assert "With Ana Lima" in response.text
    assert_private(response)


async def test_the_form_asks_every_question_and_consent_by_its_type(
    client: AsyncClient, practice: Practice
) -> None:
    page = (await client.get("/book", params=book_query(), headers=HTML)).text
    questionnaire = load_questionnaire()
    for audience, prefix in (("couple", "intake.couple"), ("each_partner", "intake.booker")):
        for q in questionnaire.questions_for(audience):
            assert f'id="f-{prefix.replace(".", "-")}-{q.id}"' in page, q.id
            assert f'name="{prefix}.{q.id}"' in page
    for consent_id, consent in load_consents().items():
        assert f'id="f-consents-{consent_id}"' in page
        assert str(escape(consent.text)) in page
    for index in (0, 1):
        for field in ("name", "email", "phone", "pronouns"):
            assert f'id="f-partners-{index}-{field}"' in page
    # A scale is a group of radio buttons; several choices are checkboxes.
    assert page.count('name="intake.booker.trust_in_care" value=') == 11
    assert 'type="checkbox" name="intake.booker.habits_to_strengthen"' in page
    assert 'autocomplete="email"' in page
    assert 'inputmode="tel"' in page
    assert "your partner will never see these answers" in page.lower()
    # The type offers video and phone, and Ana does both: the booker chooses.
    assert 'name="mode" value="video"' in page
    assert 'name="mode" value="phone"' in page
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key
    assert len(key[1]) >= 20


async def test_a_valid_form_books_and_goes_to_the_manage_page(
    client: AsyncClient, practice: Practice
) -> None:
    response = await client.post("/book", data=booking_form(), headers=HTML)

    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/manage/[A-Za-z0-9_-]{43}\?booked=1", location)
    assert_private(response)
    page = (await client.get(location, headers=HTML)).text
    assert "Your consultation is booked" in page
    assert "Monday 7 December 2026, 10:00 a.m. to 10:50 a.m." in page
    assert "Ana Lima" in page
    assert "First conversation, by video" in page
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference_on(page))
    assert "Sam Park's email also carries their own private link" in page
    assert "A private link sent to a shared inbox" not in page


async def test_a_form_with_problems_comes_back_with_messages_and_what_was_typed(
    client: AsyncClient, practice: Practice
) -> None:
    form = booking_form(
        **{
            "partners[1].email": "not an email",
            "intake.couple.hoped_for_help": "  ",
            "consents.privacy": "",
        }
    )
    response = await client.post("/book", data=form, headers=HTML)

    assert response.status_code == 422
    page = response.text
    assert_private(response)
    summary = re.search(r'<div class="error-summary"[^>]*role="alert".*?</div>', page, re.S)
    assert summary
    assert 'href="#f-partners-1-email"' in summary[0]
    assert 'href="#f-intake-couple-hoped_for_help"' in summary[0]
    assert 'href="#f-consents-privacy"' in summary[0]
    assert "Enter a valid email address" in page
    assert "Please answer this question." in page
    assert re.search(
        r'<input id="f-partners-1-email"[^>]*aria-describedby="[^"]*f-partners-1-email-error"'
        r'[^>]*aria-invalid="true"',
        page,
    )
    # Everything typed is kept, the private answers included (shown back to the same person).
    assert 'value="Robin Park"' in page
    assert 'value="not an email"' in page
    assert f'value="{PRIVATE_ANSWER}"' in page
    assert re.search(r'name="intake.booker.trust_in_care" value="6"\s+id="[^"]+" checked', page)
    assert re.search(
        r'name="intake.booker.habits_to_strengthen" value="being_present"\s+id="[^"]+" checked',
        page,
    )
    assert re.search(r'name="consents.purpose" value="yes" required checked', page)
    assert not re.search(r'name="consents.privacy" value="yes" required checked', page)
    assert await Booking.count() == 0


async def test_a_double_submit_of_one_form_makes_one_booking(
    client: AsyncClient, practice: Practice
) -> None:
    first = await client.post("/book", data=booking_form(key="same-form"), headers=HTML)
    second = await client.post("/book", data=booking_form(key="same-form"), headers=HTML)

    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await Booking.count() == 1


async def test_the_same_form_sent_again_with_changes_books_nothing_more(
    client: AsyncClient, practice: Practice
) -> None:
    await book(client, key="one-form")
    response = await client.post(
        "/book",
        data=booking_form(key="one-form", **{"partners[0].name": "Robin P."}),
        headers=HTML,
    )
    assert response.status_code == 422
    assert "This form was already sent and made a booking" in response.text
    assert await Booking.count() == 1


async def test_a_name_holding_an_address_comes_back_as_a_form_error(
    client: AsyncClient, practice: Practice
) -> None:
    form = booking_form(**{"partners[1].name": "Jamie <spy@attacker.example>, Jamie"})
    response = await client.post("/book", data=form, headers=HTML)

    assert response.status_code == 422
    page = response.text
    summary = re.search(r'<div class="error-summary"[^>]*role="alert".*?</div>', page, re.S)
    assert summary
    assert 'href="#f-partners-1-name"' in summary[0]
    assert "no email address or link" in summary[0]
    assert re.search(r'<input id="f-partners-1-name"[^>]*aria-invalid="true"', page)
    assert await Booking.count() == 0


async def test_a_time_taken_meanwhile_is_explained_with_a_way_back_to_the_times(
    client: AsyncClient, practice: Practice
) -> None:
    await book(client, key="first-couple")
    response = await client.post(
        "/book",
        data=booking_form(key="second-couple", **{"partners[0].name": "Alex Doe"}),
        headers=HTML,
    )

    assert response.status_code == 409
    assert "That time was just taken" in response.text
    assert 'href="/times?type=consult&amp;therapist=ana&amp;tz=America%2FToronto"' in response.text
    assert 'value="Alex Doe"' in response.text


async def test_the_same_email_for_both_partners_is_a_notice_not_a_refusal(
    client: AsyncClient, practice: Practice
) -> None:
    page = (await client.get("/book", params=book_query(), headers=HTML)).text
    assert re.search(
        r'<div id="shared-inbox-warning" role="status" data-message="[^"]+"></div>', page
    )
    assert '<script src="/static/book.js" defer></script>' in page

    manage = await book(client, **{"partners[1].email": "Robin@example.org"})

    confirmation = (await client.get(f"{manage}?booked=1", headers=HTML)).text
    assert "A private link sent to a shared inbox is not private" in confirmation
    # Said once, on the confirmation: not on the page the partner's copy of the link opens.
    later = (await client.get(manage, headers=HTML)).text
    assert "shared inbox" not in later


async def test_a_booker_whose_answers_raise_a_flag_sees_support_once_and_privately(
    client: AsyncClient, practice: Practice
) -> None:
    manage = await book(client, **{"intake.booker.safe_at_home": "not_sure"})

    confirmation = await client.get(f"{manage}?booked=1", headers=HTML)
    assert "If you would like support" in confirmation.text
    assert "1-866-863-0511" in confirmation.text
    assert "booking_notes=" in confirmation.headers["set-cookie"]  # cleared after showing
    again = (await client.get(f"{manage}?booked=1", headers=HTML)).text
    assert "If you would like support" not in again


async def test_without_stripe_keys_the_form_for_a_paid_type_says_it_cannot_be_booked(
    client: AsyncClient, practice: Practice
) -> None:
    response = await client.get("/book", params=book_query(type="paid"), headers=HTML)
    assert response.status_code == 422
    assert "online payment is not available at the moment" in response.text
    assert 'href="/times"' in response.text


async def test_a_paid_type_slipped_into_the_form_post_books_nothing(
    client: AsyncClient, practice: Practice
) -> None:
    response = await client.post("/book", data=booking_form(type="paid"), headers=HTML)
    assert response.status_code == 422
    assert await Booking.count() == 0


async def test_broken_booking_links_get_a_clear_page_not_an_error(
    client: AsyncClient, practice: Practice
) -> None:
    cases = [
        (book_query(type="nothing"), 404, "No consultation type"),
        (book_query(therapist="nobody"), 404, "No therapist"),
        (book_query(start="next tuesday"), 422, "RFC 3339"),
        (book_query(start="2026-12-07T10:00:00"), 422, "RFC 3339"),
        (book_query(tz="Mars/Olympus"), 422, "not a known IANA time zone"),
        ({}, 422, "Choose a consultation time on the times page first"),
    ]
    for params, status, text in cases:
        response = await client.get("/book", params=params)  # no Accept: still a page
        assert response.status_code == status, params
        assert response.headers["content-type"].startswith("text/html")
        assert text in response.text, params


async def test_the_couple_answers_and_private_answers_are_not_echoed_after_booking(
    client: AsyncClient, practice: Practice
) -> None:
    manage = await book(client)
    page = (await client.get(f"{manage}?booked=1", headers=HTML)).text
    assert PRIVATE_ANSWER not in page
    assert COUPLE_ANSWER not in page


async def test_html_typed_into_answers_and_names_is_shown_as_text(
    client: AsyncClient, practice: Practice
) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    form = booking_form(
        **{
            "partners[0].name": f"Robin {attack}",
            "intake.couple.hoped_for_help": attack,
            "partners[1].email": "not an email",  # so the form comes back with what was typed
        }
    )
    page = (await client.post("/book", data=form, headers=HTML)).text

    assert attack not in page
    assert "&lt;script&gt;alert(" in page
    assert "<img src=x" not in page
