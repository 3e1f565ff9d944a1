"""Beside the editor: the open times couples are offered, exactly as the public API answers,
and the booked consultations a change leaves outside the hours (listed, never cancelled)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking
from booking.scheduling.hours import RangeIn, TimesIn
from booking.scheduling.tables import Therapist
from tests.factories import add_booking
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_9, AT_11, Practice
from tests.integration.workspace.conftest import ADMIN, Workspace, acting, book, therapist


async def api_starts(client: AsyncClient, kind: str) -> list[int]:
    response = await client.get(
        "/api/v1/availability", params={"consultation_type": kind, "therapist": "ana"}
    )
    assert response.status_code == 200, response.text
    return [int(datetime.fromisoformat(s["start"]).timestamp()) for s in response.json()["slots"]]


async def test_the_preview_shows_exactly_the_times_couples_are_offered(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    ana = therapist(practice.therapist_id)
    await book(client, AT_9)
    await workspace.hours.replace_week(
        ana,
        None,
        [RangeIn("mon", "09:00", "12:00"), RangeIn("thu", "18:30", "21:00")],
        acting(ana),
    )

    page = await workspace.hours.page(ana)

    assert page.preview.bookable
    assert page.preview.timezone.key == "America/Toronto"
    assert (page.preview.first.isoformat(), page.preview.last.isoformat()) == (
        "2026-12-02",
        "2026-12-15",
    )
    # In the directory's order: by position, then name.
    assert [t.name for t in page.preview.types] == ["Couples consultation", "First conversation"]
    for preview in page.preview.types:
        shown = [int(s.timestamp()) for d in preview.days for s in d.starts]
        assert shown == await api_starts(client, preview.slug)
        assert shown
    (_, consult) = page.preview.types
    assert [f"{s:%a %H:%M}" for s in consult.days[0].starts] == [
        "Thu 18:30",
        "Thu 19:00",
        "Thu 19:30",
        "Thu 20:00",
    ]


async def test_a_therapist_not_taking_new_couples_previews_no_times(
    workspace: Workspace, practice: Practice
) -> None:
    await Therapist.update({Therapist.accepting_new_couples: False}).where(
        Therapist._meta.primary_key == practice.therapist_id
    )

    page = await workspace.hours.page(therapist(practice.therapist_id))

    assert page.preview.bookable is False
    assert all(t.count == 0 for t in page.preview.types)


async def test_bookings_left_outside_new_hours_are_listed_and_keep_their_time(
    workspace: Workspace, practice: Practice, client: AsyncClient, clock: FixedClock
) -> None:
    ana = therapist(practice.therapist_id)
    at_nine = await book(client, AT_9)
    at_eleven = await book(client, AT_11)
    monday = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 09:00 in Toronto
    # A hold still within its time counts; one past it does not.
    await add_booking(
        practice.therapist_id,
        practice.paid_type_id,
        monday + timedelta(minutes=60),
        status="pending_payment",
        hold_expires_at=clock.now + timedelta(minutes=10),
    )
    await add_booking(
        practice.therapist_id,
        practice.paid_type_id,
        monday + timedelta(days=7),
        status="pending_payment",
        hold_expires_at=clock.now - timedelta(minutes=1),
    )
    assert (await workspace.hours.page(ana)).outside == ()

    page = await workspace.hours.replace_week(
        ana, None, [RangeIn("mon", "10:30", "12:00")], acting(ana)
    )

    assert [(b.reference, f"{b.starts_at:%Y-%m-%d %H:%M}", b.status) for b in page.outside] == [
        (at_nine, "2026-12-07 09:00", BookingStatus.CONFIRMED),
        (page.outside[1].reference, "2026-12-07 10:00", BookingStatus.PENDING_PAYMENT),
    ]
    assert at_eleven not in {b.reference for b in page.outside}
    statuses = await Booking.select(Booking.status).where(Booking.reference == at_nine)
    assert statuses == [{"status": "confirmed"}]


async def test_a_day_off_or_time_off_over_a_booking_is_listed_too(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    ana = therapist(practice.therapist_id)
    reference = await book(client, AT_11)

    closed = await workspace.hours.set_override(ADMIN, "ana", "2026-12-07", True, [], acting(ana))
    assert [b.reference for b in closed.outside] == [reference]

    moved = await workspace.hours.set_override(
        ADMIN, "ana", "2026-12-07", False, [TimesIn("11:00", "12:00")], acting(ana)
    )
    assert moved.outside == ()

    away = await workspace.hours.add_time_off(
        ana, None, "2026-12-07T11:30", "2026-12-07T13:00", "", acting(ana)
    )
    assert [b.reference for b in away.outside] == [reference]
