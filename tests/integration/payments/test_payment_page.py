"""The payment page: what the deposit is for, how much, until when it is refunded (in the
couple's zone), that it is a test, and a CSP that lets Stripe.js in on this page only."""

from __future__ import annotations

from urllib.parse import urlsplit

from booking.bookings.tables import IdempotencyKey
from tests.factories import booking_request
from tests.integration.pages.conftest import booking_form
from tests.integration.payments.conftest import Paying
from tests.integration.practice import AT_10, Practice, manage_token

HTML = {"Accept": "text/html"}


async def test_the_page_says_what_how_much_and_until_when(
    paying: Paying, practice: Practice
) -> None:
    body = booking_request(AT_10, kind="paid", timezone="America/Vancouver")
    held = (await paying.client.post("/api/v1/bookings", json=body)).json()
    token = manage_token(held["manage_url"])
    assert urlsplit(held["payment"]["pay_url"]).path == f"/manage/{token}/pay"

    page = await paying.client.get(f"/manage/{token}/pay", headers=HTML)
    assert page.status_code == 200
    text = " ".join(page.text.split())
    assert "Pay the $50.00 CAD deposit" in text
    assert "Couples consultation with Ana Lima" in text
    # Monday 10:00 in Toronto is 7:00 a.m. in Vancouver; the window is 48 hours.
    assert "Cancel by Saturday 5 December, 7:00 a.m. for a full refund of the deposit." in text
    assert "This is a test." in text
    assert paying.emulator.js_url in page.text

    csp = page.headers["content-security-policy"]
    assert f"script-src 'self' {paying.emulator.api_base}" in csp
    assert f"frame-src {paying.emulator.api_base}" in csp
    manage = await paying.client.get(f"/manage/{token}", headers=HTML)
    assert paying.emulator.api_base not in manage.headers["content-security-policy"]
    assert "Pay the deposit" in manage.text


async def test_the_booking_form_leads_to_the_payment_page(
    paying: Paying, practice: Practice
) -> None:
    form = await paying.client.get(
        "/book",
        params={"type": "paid", "therapist": "ana", "start": AT_10, "tz": "America/Toronto"},
        headers=HTML,
    )
    assert form.status_code == 200, form.text
    sent = await paying.client.post("/book", data=booking_form(type="paid"), headers=HTML)
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    assert location.startswith("/manage/")
    assert location.endswith("/pay")
    page = await paying.client.get(location, headers=HTML)
    assert page.status_code == 200
    assert "Pay the deposit" in page.text


async def test_a_repeated_hold_request_answers_the_same_pay_link_without_storing_it(
    paying: Paying, practice: Practice
) -> None:
    body = booking_request(AT_10, kind="paid")
    headers = {"Idempotency-Key": "hold-once"}
    first = (await paying.client.post("/api/v1/bookings", json=body, headers=headers)).json()
    again = (await paying.client.post("/api/v1/bookings", json=body, headers=headers)).json()
    assert again["payment"] == first["payment"]
    token = manage_token(first["manage_url"])
    (stored,) = await IdempotencyKey.select(IdempotencyKey.response_body)
    assert token not in stored["response_body"]
