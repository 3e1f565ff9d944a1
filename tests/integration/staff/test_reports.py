"""Reports over a chosen range: the numbers counted from the bookings, each chart an SVG
drawn from the same numbers, with no script in it."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import pytest

from booking.bookings.tables import Booking, Partner
from booking.core.errors import NotFound, ValidationFailed
from tests.fixtures.databases import Database
from tests.integration.conftest import NOW
from tests.integration.practice import Practice
from tests.integration.staff.conftest import ADMIN, Staff, therapist_principal

_numbers = itertools.count(1)


async def seed(
    practice: Practice,
    starts: datetime,
    status: str,
    *,
    booked_days_before: int,
    complete: int = 0,
    hold_expires_at: datetime | None = None,
) -> None:
    ends = starts + timedelta(minutes=50)
    (row,) = await Booking.insert(
        Booking(
            reference=f"REPT-{next(_numbers):04d}",
            therapist=practice.therapist_id,
            consultation_type=practice.type_id,
            status=status,
            mode="video",
            starts_at=starts,
            ends_at=ends,
            blocked_until=ends + timedelta(minutes=10),
            hold_expires_at=hold_expires_at,
            created_at=starts - timedelta(days=booked_days_before),
        )
    ).returning(Booking._meta.primary_key)
    for position in (1, 2):
        await Partner.insert(
            Partner(
                booking=row["id"],
                position=position,
                name=f"Partner {position}",
                email=f"p{position}@example.org",
                intake_completed_at=starts - timedelta(days=1) if position <= complete else None,
            )
        )


def at(day: int, hour: int = 15) -> datetime:
    return datetime(2026, 12, day, hour, 0, tzinfo=UTC)


async def test_the_reports_count_by_week_status_lead_time_and_completion(
    database: Database, practice: Practice, staff: Staff
) -> None:
    # The week of 30 November
    await seed(
        practice,
        datetime(2026, 11, 30, 15, tzinfo=UTC),
        "completed",
        booked_days_before=1,
        complete=2,
    )
    await seed(practice, at(1), "no_show", booked_days_before=5, complete=1)
    await seed(practice, at(2), "cancelled", booked_days_before=10)
    # The week of 7 December
    await seed(practice, at(7), "confirmed", booked_days_before=5, complete=2)
    await seed(practice, at(8), "confirmed", booked_days_before=40, complete=1)
    await seed(
        practice,
        at(9),
        "pending_payment",
        booked_days_before=7,
        hold_expires_at=NOW - timedelta(hours=1),
    )
    # Outside the range
    await seed(practice, at(21), "confirmed", booked_days_before=3)

    reports = await staff.reports.reports(ADMIN, date(2026, 11, 30), date(2026, 12, 13))

    assert reports.bookings == 6
    per_week = reports.by_key("per_week").table
    assert per_week.headers == (
        "week",
        "confirmed",
        "completed",
        "no show",
        "cancelled",
        "expired",
        "total",
    )
    assert per_week.rows == (
        ("week of 2026-11-30", 0, 1, 1, 1, 0, 3),
        ("week of 2026-12-07", 2, 0, 0, 0, 1, 3),
    )
    assert reports.by_key("cancellations").table.rows == (
        ("week of 2026-11-30", 1, 1),
        ("week of 2026-12-07", 0, 0),
    )
    lead = {row[0]: row[1] for row in reports.by_key("lead_days").table.rows}
    assert lead["same or next day"] == 1
    assert lead["4-7 days"] == 3
    assert lead["8-14 days"] == 1
    assert lead["over 30 days"] == 1
    assert lead["median (days)"] == 6.0
    assert reports.by_key("intake_completion").table.rows == (
        ("week of 2026-11-30", 2, 1, 50.0),
        ("week of 2026-12-07", 2, 1, 50.0),
    )
    for report in reports.reports:
        svg = ElementTree.fromstring(report.svg)  # a well-formed SVG document
        assert svg.tag == "{http://www.w3.org/2000/svg}svg"
        assert "<script" not in report.svg
        assert report.title in report.svg


async def test_an_empty_range_draws_empty_charts(
    database: Database, practice: Practice, staff: Staff
) -> None:
    reports = await staff.reports.reports(ADMIN, date(2027, 1, 4), date(2027, 1, 10))

    assert reports.bookings == 0
    assert reports.by_key("per_week").table.rows == (("week of 2027-01-04", 0, 0),)
    assert all(r.svg.startswith("<svg") for r in reports.reports)


async def test_a_range_is_checked_and_kept_for_admins(
    database: Database, practice: Practice, staff: Staff
) -> None:
    with pytest.raises(ValidationFailed):
        await staff.reports.reports(ADMIN, date(2026, 12, 2), date(2026, 12, 1))
    with pytest.raises(ValidationFailed):
        await staff.reports.reports(ADMIN, date(2025, 1, 1), date(2026, 12, 1))
    with pytest.raises(NotFound):
        await staff.reports.reports(
            therapist_principal(practice.therapist_id), date(2026, 12, 1), date(2026, 12, 2)
        )
