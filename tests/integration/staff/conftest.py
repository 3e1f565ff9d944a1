"""The admin's review services on the test's database, with the test's clock, and the two
kinds of staff who ask them: an admin, and a therapist (who may reach none of it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.bookings.booked_time import LiveBookings
from booking.bookings.links import LinkService
from booking.bookings.manage import BookingManagement
from booking.bookings.reassign import Reassignment
from booking.core.settings import Settings
from booking.notifications.announcer import OutboxAnnouncer
from booking.notifications.feeds import FeedService
from booking.scheduling.services import AvailabilityService
from booking.staff.audit_log import AuditLog
from booking.staff.erase import EraseService
from booking.staff.export import ExportService
from booking.staff.notes import NoteService
from booking.staff.policies import PolicyService
from booking.staff.principal import Role, StaffPrincipal
from booking.staff.queue import ReviewQueue
from booking.staff.reports import ReportService
from booking.staff.review import BookingReview
from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import Practice

ADMIN = StaffPrincipal(account_id=1, email="admin@harbour.example", name="Ada", role=Role.ADMIN)


def therapist_principal(therapist_id: int) -> StaffPrincipal:
    return StaffPrincipal(
        account_id=2,
        email="ana@harbour.example",
        name="Ana Lima",
        role=Role.THERAPIST,
        therapist_id=therapist_id,
    )


@dataclass
class Staff:
    queue: ReviewQueue
    review: BookingReview
    notes: NoteService
    export: ExportService
    erase: EraseService
    audit: AuditLog
    policies: PolicyService
    reports: ReportService


def make_staff(settings: Settings, clock: FixedClock) -> Staff:
    keyring = settings.keyring()
    announcer = OutboxAnnouncer()
    availability = AvailabilityService(settings.practice_timezone, LiveBookings(), clock)
    return Staff(
        queue=ReviewQueue(settings.practice_timezone, clock),
        review=BookingReview(
            keyring,
            clock,
            LinkService(settings, clock, announcer),
            Reassignment(settings, clock, availability, announcer=announcer),
            BookingManagement(
                settings,
                keyring,
                clock,
                availability,
                announcer=announcer,
                calendars=FeedService(settings, clock),
            ),
        ),
        notes=NoteService(keyring, clock),
        export=ExportService(keyring, clock),
        erase=EraseService(clock),
        audit=AuditLog(settings.practice_timezone),
        policies=PolicyService(clock),
        reports=ReportService(settings.practice_timezone, clock),
    )


@pytest.fixture
def staff(database: Database, clock: FixedClock) -> Staff:
    return make_staff(Settings.from_env(), clock)


async def book(client: AsyncTestClient[Any], start: str, **overrides: Any) -> dict[str, Any]:
    """A booking made through the public API, as a couple makes one."""
    response = await client.post("/api/v1/bookings", json=booking_request(start, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


__all__ = ["ADMIN", "Practice", "Staff", "book", "therapist_principal"]
