"""Idempotency-Key: the same key and body answer the same booking, never a second one."""

from __future__ import annotations

from datetime import timedelta

import msgspec
from httpx import AsyncClient

from booking.bookings.booked_time import LiveBookings
from booking.bookings.create import BookingCreation, Created
from booking.bookings.schemas import BookingIn
from booking.bookings.tables import Booking, IdempotencyKey
from booking.core.settings import Settings
from booking.intake.consents import load_support
from booking.intake.screen import AnswerRecords, QuestionnaireScreen, support_out
from booking.notifications.announcer import OutboxAnnouncer
from booking.scheduling.services import AvailabilityService
from tests.factories import booking_request, partner_answers
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_9, AT_10, Practice


async def test_a_repeat_returns_the_original_status_and_body(
    client: AsyncClient, practice: Practice
) -> None:
    headers = {"Idempotency-Key": "booking-attempt-1"}
    first = await client.post("/api/v1/bookings", json=booking_request(AT_10), headers=headers)
    again = await client.post("/api/v1/bookings", json=booking_request(AT_10), headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await Booking.count() == 1


async def test_the_same_key_with_another_body_is_refused(
    client: AsyncClient, practice: Practice
) -> None:
    headers = {"Idempotency-Key": "booking-attempt-1"}
    await client.post("/api/v1/bookings", json=booking_request(AT_10), headers=headers)
    other = await client.post("/api/v1/bookings", json=booking_request(AT_9), headers=headers)

    assert other.status_code == 422
    assert other.json()["error"]["code"] == "validation_error"
    assert other.json()["error"]["fields"][0]["field"] == "Idempotency-Key"
    assert await Booking.count() == 1


async def test_keys_are_forgotten_after_a_day(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    headers = {"Idempotency-Key": "booking-attempt-1"}
    first = await client.post("/api/v1/bookings", json=booking_request(AT_10), headers=headers)
    token = first.json()["manage_url"].rsplit("/", 1)[1]
    await client.post(f"/api/v1/bookings/{token}/cancel")

    clock.now += timedelta(hours=24, seconds=1)
    again = await client.post("/api/v1/bookings", json=booking_request(AT_10), headers=headers)

    assert again.status_code == 201
    assert again.json()["reference"] != first.json()["reference"]


async def test_a_failed_attempt_does_not_hold_the_key(
    client: AsyncClient, practice: Practice
) -> None:
    headers = {"Idempotency-Key": "booking-attempt-2"}
    await client.post("/api/v1/bookings", json=booking_request(AT_10))
    taken = await client.post("/api/v1/bookings", json=booking_request(AT_10), headers=headers)
    assert taken.status_code == 409
    assert (
        await client.post("/api/v1/bookings", json=booking_request(AT_10), headers=headers)
    ).status_code == 409


async def test_an_overlong_key_is_refused(client: AsyncClient, practice: Practice) -> None:
    response = await client.post(
        "/api/v1/bookings", json=booking_request(AT_10), headers={"Idempotency-Key": "k" * 201}
    )
    assert response.status_code == 422


async def test_a_replay_after_a_cancellation_says_cancelled(
    client: AsyncClient, practice: Practice
) -> None:
    headers = {"Idempotency-Key": "booking-attempt-3"}
    first = await client.post("/api/v1/bookings", json=booking_request(AT_10), headers=headers)
    token = first.json()["manage_url"].rsplit("/", 1)[1]
    assert (await client.post(f"/api/v1/bookings/{token}/cancel")).status_code == 200

    again = await client.post("/api/v1/bookings", json=booking_request(AT_10), headers=headers)

    assert again.status_code == 201
    assert again.json() == {**first.json(), "status": "cancelled"}
    assert await Booking.count() == 1


async def test_support_is_not_stored_with_the_key_and_a_replay_still_gives_it(
    client: AsyncClient, practice: Practice
) -> None:
    headers = {"Idempotency-Key": "booking-attempt-4"}
    body = booking_request(AT_10)
    body["intake"]["booker"] = partner_answers(harmed_past_year="yes")
    first = await client.post("/api/v1/bookings", json=body, headers=headers)
    again = await client.post("/api/v1/bookings", json=body, headers=headers)

    support = load_support()
    assert first.json()["support"]["message"] == support.message
    assert again.json() == first.json()
    (stored,) = await IdempotencyKey.select(IdempotencyKey.response_body)
    assert msgspec.json.decode(stored["response_body"])["support"] is None
    assert support.message not in stored["response_body"]
    assert all(r.contact not in stored["response_body"] for r in support.resources)


async def test_the_service_tells_a_replay_from_a_first_answer_and_names_no_status_code(
    database: Database, practice: Practice, clock: FixedClock
) -> None:
    # Given the booking service assembled as the application assembles it
    settings = Settings.from_env()
    keyring = settings.keyring()
    bookings = BookingCreation(
        settings,
        keyring,
        clock,
        AvailabilityService(settings.practice_timezone, LiveBookings(), clock),
        support_out(load_support(settings.support_file)),
        screen=QuestionnaireScreen(),
        records=AnswerRecords(keyring),
        announcer=OutboxAnnouncer(),
    )
    request = msgspec.convert(booking_request(AT_10), BookingIn)

    # When the same request is made twice with one key
    first = await bookings.create(request, "booking-attempt-1", "")
    again = await bookings.create(request, "booking-attempt-1", "")

    # Then the second is the first answer, marked as a replay; the controller picks the status
    assert (first.replayed, again.replayed) == (False, True)
    assert again.booking == first.booking
    assert isinstance(first, Created)
