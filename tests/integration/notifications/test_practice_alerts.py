"""The practice hears at once when an intake needs its follow-up, and when such a booking
moves or is cancelled; the notice names the booking and nothing private."""

from __future__ import annotations

from typing import Any

from booking.notifications.tables import OutboxMessage
from tests.factories import ALL_CONSENTS, DISTINCTIVE, booking_request, partner_answers
from tests.integration.notifications.conftest import Delivering
from tests.integration.practice import AT_9, Practice, intake_token, manage_token
from tests.mailserver import Received

PRACTICE_ALERT = "intake@book.harbour.example"  # the default for the fixture's public URL
# Things that must never reach the practice's inbox: answers, names, contact details, hints.
CANARIES = [
    DISTINCTIVE,
    "not_sure",
    "prefer_private",
    "Quillfeather",
    "Robin",
    "Sam",
    "canary-robin@example.org",
    "canary-sam@example.org",
    "416-555-0199",
    "safe",
    "harm",
    "partner",
    "flag",
]


def booking_body(*, flagged: bool) -> dict[str, Any]:
    body = booking_request(AT_9)
    body["partners"] = [
        {
            "name": "Robin Quillfeather",
            "email": "canary-robin@example.org",
            "phone": "416-555-0199",
        },
        {"name": "Sam Quillfeather", "email": "canary-sam@example.org"},
    ]
    body["intake"]["booker"] = partner_answers(
        hoped_for_change=DISTINCTIVE, safe_at_home="not_sure" if flagged else "yes"
    )
    return body


async def book(delivering: Delivering, *, flagged: bool) -> dict[str, Any]:
    response = await delivering.client.post("/api/v1/bookings", json=booking_body(flagged=flagged))
    assert response.status_code == 201, response.text
    return dict(response.json())


def notices(received: list[Received]) -> list[Received]:
    return [m for m in received if m.recipients == [PRACTICE_ALERT]]


def assert_says_only_the_booking(notice: Received, reference: str) -> None:
    message = notice.message
    assert [a.addr_spec for a in message["To"].addresses] == [PRACTICE_ALERT]
    assert reference in message["Subject"]
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert f"look the booking up by its reference, {reference}." in plain.get_content()
    assert f"<strong>{reference}</strong>" in html.get_content()
    # No link to a staff area that does not exist yet.
    assert "/staff/" not in plain.get_content() + html.get_content()
    assert "Monday 7 December 2026" in plain.get_content()
    assert not [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert not [p for p in message.walk() if p.get_filename()]
    # Decoded, as the reader sees it: a transfer encoding must not hide a canary.
    whole = "\n".join([str(message["Subject"]), plain.get_content(), html.get_content()])
    whole += message.as_string()
    for canary in CANARIES:
        assert canary.lower() not in whole.lower(), canary
    for forbidden in ("/manage/", "/intake/"):
        assert forbidden not in whole


async def test_a_flag_at_booking_sends_the_practice_a_notice_with_no_private_word(
    delivering: Delivering, practice: Practice
) -> None:
    booked = await book(delivering, flagged=True)

    received = await delivering.wait_for(3)

    (notice,) = notices(received)
    assert notice.message["Subject"] == f"Intake follow-up: booking {booked['reference']}"
    assert_says_only_the_booking(notice, booked["reference"])
    assert {m.recipients[0] for m in received} == {
        "canary-robin@example.org",
        "canary-sam@example.org",
        PRACTICE_ALERT,
    }


async def test_each_flagged_submission_of_a_partner_sends_its_own_notice(
    delivering: Delivering, practice: Practice
) -> None:
    booked = await book(delivering, flagged=False)
    await delivering.wait_for(2)
    link = f"/api/v1/intake/{intake_token(booked['reference'], 2)}"
    answers = partner_answers(harmed_past_year="prefer_private", hoped_for_change=DISTINCTIVE)

    for _ in range(2):
        response = await delivering.client.post(
            link, json={"answers": answers, "consents": ALL_CONSENTS}
        )
        assert response.status_code == 200

    received = notices(await delivering.wait_for(4))
    assert len(received) == 2
    assert len({m.message["Message-ID"] for m in received}) == 2
    for notice in received:
        assert notice.message["Subject"] == f"Intake follow-up: booking {booked['reference']}"
        assert_says_only_the_booking(notice, booked["reference"])


async def test_moving_then_cancelling_a_flagged_booking_each_tell_the_practice(
    delivering: Delivering, practice: Practice
) -> None:
    booked = await book(delivering, flagged=True)
    token = manage_token(booked["manage_url"])
    await delivering.wait_for(3)

    moved = await delivering.client.post(
        f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-12-07T11:00:00-05:00"}
    )
    assert moved.status_code == 200
    after_move = notices(await delivering.wait_for(6))
    cancelled = await delivering.client.post(f"/api/v1/bookings/{token}/cancel")
    assert cancelled.status_code == 200
    after_cancel = notices(await delivering.wait_for(9))

    reference = booked["reference"]
    subjects = sorted(str(m.message["Subject"]) for m in after_cancel)
    assert len(after_move) == 2
    assert subjects == [
        f"Intake follow-up: booking {reference}",
        f"Intake follow-up: booking {reference} cancelled",
        f"Intake follow-up: booking {reference} moved",
    ]
    for notice in after_cancel:
        assert_says_only_the_booking(notice, reference)


async def test_an_unflagged_booking_moved_and_cancelled_tells_the_practice_nothing(
    delivering: Delivering, practice: Practice
) -> None:
    booked = await book(delivering, flagged=False)
    token = manage_token(booked["manage_url"])
    await delivering.wait_for(2)
    await delivering.client.post(
        f"/api/v1/bookings/{token}/reschedule", json={"start": "2026-12-07T11:00:00-05:00"}
    )
    await delivering.wait_for(4)
    await delivering.client.post(f"/api/v1/bookings/{token}/cancel")

    received = await delivering.wait_for(6)

    assert not notices(received)
    assert await OutboxMessage.count().where(OutboxMessage.recipient == "practice") == 0
