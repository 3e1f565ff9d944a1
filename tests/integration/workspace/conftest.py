"""The workspace's services, assembled as the application assembles them, on the test's
database and clock; principals for a therapist and an admin; a booking made through the
public API with both partners' answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient

from booking.bookings.booked_time import LiveBookings
from booking.bookings.outcomes import ConsultationOutcomes
from booking.core.acting import Acting
from booking.core.settings import Settings
from booking.notifications.announcer import OutboxAnnouncer
from booking.notifications.feeds import FeedService
from booking.scheduling.hours_editor import HoursEditor
from booking.scheduling.services import AvailabilityService
from booking.staff.consultation import ConsultationPage
from booking.staff.feed import WorkspaceFeed
from booking.staff.home import WorkspaceHome
from booking.staff.hours import WorkspaceHours
from booking.staff.principal import Role, StaffPrincipal
from tests.factories import ALL_CONSENTS, booking_request, partner_answers
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import intake_token

ADDRESS = "203.0.113.9"
AGENT = "Mozilla/5.0 (iPad; CPU OS 17_0) Workspace-Test"


@dataclass(frozen=True)
class Workspace:
    editor: HoursEditor
    hours: WorkspaceHours
    home: WorkspaceHome
    consultation: ConsultationPage
    feed: WorkspaceFeed
    feeds: FeedService


@pytest.fixture
def workspace(database: Database, clock: FixedClock) -> Workspace:
    settings = Settings.from_env()
    keyring = settings.keyring()
    availability = AvailabilityService(settings.practice_timezone, LiveBookings(), clock)
    editor = HoursEditor(keyring, clock)
    feeds = FeedService(settings, clock)
    return Workspace(
        editor=editor,
        hours=WorkspaceHours(editor, availability, clock),
        home=WorkspaceHome(clock),
        consultation=ConsultationPage(
            keyring, ConsultationOutcomes(clock, OutboxAnnouncer()), clock
        ),
        feed=WorkspaceFeed(feeds, clock),
        feeds=feeds,
    )


def therapist(therapist_id: int, account_id: int = 11) -> StaffPrincipal:
    return StaffPrincipal(
        account_id=account_id,
        email=f"therapist{account_id}@practice.example",
        name="A Therapist",
        role=Role.THERAPIST,
        therapist_id=therapist_id,
    )


ADMIN = StaffPrincipal(account_id=1, email="admin@practice.example", name="Admin", role=Role.ADMIN)


def acting(principal: StaffPrincipal) -> Acting:
    return Acting(principal.actor, ADDRESS, AGENT)


async def book(client: AsyncClient, start: str, therapist: str = "ana", **overrides: Any) -> str:
    """A booking through the public API (answers encrypted as in production); its reference."""
    response = await client.post(
        "/api/v1/bookings", json=booking_request(start, therapist=therapist, **overrides)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["reference"])


async def answer_as_partner_two(client: AsyncClient, reference: str, **answers: Any) -> None:
    response = await client.post(
        f"/api/v1/intake/{intake_token(reference, 2)}",
        json={"answers": partner_answers(**answers), "consents": ALL_CONSENTS},
    )
    assert response.status_code == 200, response.text
