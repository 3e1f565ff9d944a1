"""The deposit on the admin's couple's page: what the panel shows of a paid deposit, and the
admin's refund, made once at Stripe through the cancellation's refund path whatever happens
around it (two admins at once, the couple's own cancellation refund before or after), audited,
the booker told by email; a therapist reaches none of it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from booking.core.audit import AuditEvent
from booking.staff.principal import Role
from tests.factories import booking_request
from tests.integration.conftest import FixedClock
from tests.integration.payments.conftest import ConcurrentPaying, Paying
from tests.integration.payments.money import (
    outbox_rows,
    paid_booking,
    payment_row,
    refund_rows,
    refunded,
    refunds_at_stripe,
)
from tests.integration.payments.test_refunds import INSIDE_THE_WINDOW, api, plain
from tests.integration.practice import AT_9, AT_11, Practice
from tests.mailserver import MailServer
from tests.staff_support import create_staff, csrf_token, post_form, sign_in
from tests.stripe_emulator import CARD_OK
from tests.waiting import eventually

HTML = {"accept": "text/html"}
NOTHING_LEFT = "nothing is left to refund"


async def as_admin(client: Any, clock: FixedClock) -> int:
    login = await create_staff(Role.ADMIN, name="Ada Admin")
    response = await sign_in(client, login, at=clock())
    assert response.status_code == 303, response.text
    return login.account_id


async def refund_form(client: Any, reference: str) -> tuple[str, str]:
    """The confirmation step's page and its form's CSRF token."""
    page = await client.get(f"/staff/bookings/{reference}/refund", headers=HTML)
    assert page.status_code == 200, page.text
    return page.text, csrf_token(page.text)


async def refund_audit(reference: str) -> list[dict[str, Any]]:
    return list(
        await AuditEvent.select(AuditEvent.actor, AuditEvent.record).where(
            (AuditEvent.action == "deposit.refunded") & (AuditEvent.booking_reference == reference)
        )
    )


async def intent_of(reference: str) -> str:
    return str((await payment_row(reference))["payment_intent_id"])


async def test_the_panel_shows_the_paid_deposit_and_a_booking_without_one_has_none(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    held = await paid_booking(paying)
    free = await paying.client.post("/api/v1/bookings", json=booking_request(AT_11))
    assert free.status_code == 201, free.text
    await as_admin(paying.client, clock)

    page = await paying.client.get(f"/staff/bookings/{held['reference']}", headers=HTML)

    assert page.status_code == 200, page.text
    panel = page.text.split('id="deposit-heading"', 1)[1].split("</section>", 1)[0]
    assert "<dd>$50.00 CAD</dd>" in panel
    assert "<dd>Paid</dd>" in panel
    assert "Wednesday 2 December 2026, 10:00 a.m." in panel  # paid at, in Toronto
    assert "<dd>$0.00 CAD</dd>" in panel  # refunded
    assert f"<code>{await intent_of(held['reference'])}</code>" in panel
    assert "Refund $50.00 CAD" in panel
    assert "4242" not in page.text  # nothing of the card
    without = await paying.client.get(f"/staff/bookings/{free.json()['reference']}", headers=HTML)
    assert without.status_code == 200, without.text
    assert 'id="deposit-heading"' not in without.text


async def test_the_admins_refund_is_made_once_audited_and_the_booker_told(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    held = await paid_booking(paying)
    reference = held["reference"]
    await paying.wait_for(2)  # the invitations
    admin = await as_admin(paying.client, clock)

    # The confirmation step names the amount
    text, token = await refund_form(paying.client, reference)
    assert "This gives back <strong>$50.00 CAD</strong>" in text

    # A refund, then the same form posted again (a double click)
    first = await post_form(
        paying.client, f"/staff/bookings/{reference}/refund", {"amount": "5000"}, token
    )
    again = await post_form(
        paying.client, f"/staff/bookings/{reference}/refund", {"amount": "5000"}, token
    )

    assert first.status_code == 303, first.text
    assert first.headers["location"] == f"/staff/bookings/{reference}?done=refunded"
    assert again.status_code == 409, again.text
    assert NOTHING_LEFT in again.text
    (row,) = await refunded(reference)
    at_stripe = refunds_at_stripe(paying.emulator, await intent_of(reference))
    assert [(r["id"], r["amount"]) for r in at_stripe] == [(row["stripe_refund_id"], 5000)]
    assert len(await outbox_rows(reference, "refund")) == 1
    assert await refund_audit(reference) == [{"actor": f"staff:{admin}", "record": "5000 cad"}]

    # The panel shows it made; nothing is left to refund
    async def made() -> str:
        page = await paying.client.get(f"/staff/bookings/{reference}", headers=HTML)
        return page.text if "<dd>Refunded</dd>" in page.text else ""

    panel = (await eventually(made)).split('id="deposit-heading"', 1)[1].split("</section>")[0]
    assert "Refunded by the practice" in panel
    assert "made on Wednesday 2 December 2026" in panel
    assert "Refund $50.00 CAD" not in panel

    # The booker, and only the booker, is told
    mails = [
        m
        for m in await paying.wait_for(3)
        if "deposit has been refunded" in str(m.message["Subject"])
    ]
    assert len(mails) == 1
    assert mails[0].recipients == ["robin@example.org"]
    assert "$50.00 CAD is being refunded to the card you paid with" in plain(mails[0])


async def test_two_admins_refunding_at_once_refund_once(
    concurrent_paying: ConcurrentPaying, practice: Practice, clock: FixedClock, smtp: MailServer
) -> None:
    http, emulator = concurrent_paying.http, concurrent_paying.emulator
    held = (await http.post("/api/v1/bookings", json=booking_request(AT_9, kind="paid"))).json()
    reference = held["reference"]
    payment = f"/api/v1/bookings/{held['manage_url'].rsplit('/', 1)[-1]}/payment"
    page = (await http.get(payment)).json()
    saved = await asyncio.to_thread(emulator.save_card, page["setup_client_secret"], CARD_OK)
    paid = await http.post(payment, json={"setup_intent": saved["id"]})
    assert paid.status_code == 200, paid.text
    await as_admin(http, clock)
    _, token = await refund_form(http, reference)

    answers = await asyncio.gather(
        *(
            post_form(http, f"/staff/bookings/{reference}/refund", {"amount": "5000"}, token)
            for _ in range(2)
        )
    )

    assert concurrent_paying.in_flight.most > 1  # the two really overlapped
    assert sorted(a.status_code for a in answers) == [303, 409]
    (row,) = await refunded(reference)
    at_stripe = refunds_at_stripe(emulator, await intent_of(reference))
    assert [(r["id"], r["amount"]) for r in at_stripe] == [(row["stripe_refund_id"], 5000)]
    assert len(await refund_audit(reference)) == 1


async def test_after_the_couples_cancellation_refund_the_admin_is_told_nothing_is_left(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    held = await paid_booking(paying)
    reference = held["reference"]
    clock.now = INSIDE_THE_WINDOW
    await as_admin(paying.client, clock)
    _, token = await refund_form(paying.client, reference)  # opened before the couple cancel
    cancelled = await paying.client.post(f"{api(held)}/cancel", json={})
    assert cancelled.json()["refund"] == {"amount": 5000, "currency": "cad"}

    answer = await post_form(
        paying.client, f"/staff/bookings/{reference}/refund", {"amount": "5000"}, token
    )
    form = await paying.client.get(f"/staff/bookings/{reference}/refund", headers=HTML)

    assert answer.status_code == 409, answer.text
    assert NOTHING_LEFT in answer.text
    assert form.status_code == 409
    (row,) = await refunded(reference)
    assert row["cause"] == "cancelled"
    at_stripe = refunds_at_stripe(paying.emulator, await intent_of(reference))
    assert [r["id"] for r in at_stripe] == [row["stripe_refund_id"]]
    assert await refund_audit(reference) == []


async def test_a_cancellation_after_the_admins_refund_refunds_nothing_more(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    held = await paid_booking(paying)
    reference = held["reference"]
    clock.now = INSIDE_THE_WINDOW
    await as_admin(paying.client, clock)
    _, token = await refund_form(paying.client, reference)
    made = await post_form(
        paying.client, f"/staff/bookings/{reference}/refund", {"amount": "5000"}, token
    )
    assert made.status_code == 303, made.text

    cancelled = await paying.client.post(f"{api(held)}/cancel", json={})

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json() == {"status": "cancelled", "refund": None}
    (row,) = await refunded(reference)
    assert row["cause"] == "staff"
    assert len(refunds_at_stripe(paying.emulator, await intent_of(reference))) == 1
    assert [r["status"] for r in await outbox_rows(reference, "refund")] == ["sent"]


async def test_a_therapist_gets_404_for_the_refund(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    held = await paid_booking(paying)
    reference = held["reference"]
    login = await create_staff(therapist="ana")
    await sign_in(paying.client, login, at=clock())
    own = await paying.client.get(f"/staff/bookings/{reference}", headers=HTML)
    assert own.status_code == 200, own.text
    assert 'id="deposit-heading"' not in own.text

    form = await paying.client.get(f"/staff/bookings/{reference}/refund", headers=HTML)
    post = await post_form(
        paying.client,
        f"/staff/bookings/{reference}/refund",
        {"amount": "5000"},
        csrf_token(own.text),
    )

    assert form.status_code == 404
    assert post.status_code == 404
    assert await refund_rows(reference) == []
    assert await refund_audit(reference) == []


async def test_an_amount_nobody_confirmed_is_refused_and_nothing_is_queued(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    held = await paid_booking(paying)
    reference = held["reference"]
    await as_admin(paying.client, clock)
    _, token = await refund_form(paying.client, reference)
    path = f"/staff/bookings/{reference}/refund"

    other = await post_form(paying.client, path, {"amount": "4000"}, token)
    missing = await post_form(paying.client, path, {}, token)

    assert other.status_code == 409, other.text
    assert "What is left to refund is now $50.00 CAD" in other.text
    assert missing.status_code == 422, missing.text
    assert "Confirm the amount to refund." in missing.text
    assert await refund_rows(reference) == []
    assert await refund_audit(reference) == []


async def test_the_export_lists_the_deposit_and_its_refund_and_nothing_of_the_card(
    paying: Paying, practice: Practice, clock: FixedClock
) -> None:
    held = await paid_booking(paying)
    reference = held["reference"]
    await as_admin(paying.client, clock)
    _, token = await refund_form(paying.client, reference)
    refunded_now = await post_form(
        paying.client, f"/staff/bookings/{reference}/refund", {"amount": "5000"}, token
    )
    assert refunded_now.status_code == 303, refunded_now.text

    async def refunded_at_stripe() -> bool:
        return bool((await payment_row(reference))["status"] == "refunded")

    await eventually(refunded_at_stripe)
    answer = await paying.client.get(f"/staff/bookings/{reference}/export.json")
    assert answer.status_code == 200, answer.text
    exported = answer.json()

    (payment,) = exported["payments"]
    assert payment["status"] == "refunded"
    assert payment["amount"] == {"amount": 5000, "currency": "cad"}
    assert payment["refunded"] == {"amount": 5000, "currency": "cad"}
    assert payment["payment_intent"] == await intent_of(reference)
    assert payment["paid_at"] is not None
    (refund,) = payment["refunds"]
    assert refund["cause"] == "staff"
    assert refund["amount"] == {"amount": 5000, "currency": "cad"}
    assert refund["stripe_refund"].startswith("re_")
    text = json.dumps(exported)
    assert "4242" not in text
    assert "_secret_" not in text  # no client secret of the card form
