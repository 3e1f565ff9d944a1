"""Editing hours: saved at once for the public times, checked with each problem named,
audited without private content, the note on time off encrypted, one week left whole by two
saves at once."""

from __future__ import annotations

import asyncio
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from booking.core.audit import AuditEvent
from booking.core.crypto import Keyring, key_id_of
from booking.core.errors import NotFound, ValidationFailed
from booking.core.settings import get_settings
from booking.scheduling.hours import RangeIn, TimesIn, note_context
from booking.scheduling.hours_editor import rotate_time_off_note_keys
from booking.scheduling.records import load_therapist
from booking.scheduling.tables import DateOverride, TimeOff, WeeklyHoursRule
from tests.factories import make_therapist
from tests.fixtures.databases import Database
from tests.integration.practice import Practice
from tests.integration.workspace.conftest import ADDRESS, Workspace, acting, therapist

TUESDAY = "2026-12-08"
NOTE = "Surgery-Quokka-4417"


async def times(client: AsyncClient, day: str, therapist: str = "ana") -> list[str]:
    response = await client.get(
        "/api/v1/availability",
        params={
            "consultation_type": "consult",
            "therapist": therapist,
            "start": day,
            "end": day,
            "tz": "America/Toronto",
        },
    )
    assert response.status_code == 200, response.text
    return [slot["start"][11:16] for slot in response.json()["slots"]]


async def week_rows(therapist_id: int) -> list[tuple[int, time, time]]:
    rows = await WeeklyHoursRule.select(
        WeeklyHoursRule.weekday, WeeklyHoursRule.start_time, WeeklyHoursRule.end_time
    ).where(WeeklyHoursRule.therapist == therapist_id)
    return sorted((r["weekday"], r["start_time"], r["end_time"]) for r in rows)


async def audit_rows() -> list[dict[str, Any]]:
    return list(
        await AuditEvent.select(
            AuditEvent.actor,
            AuditEvent.action,
            AuditEvent.booking_reference,
            AuditEvent.record,
            AuditEvent.client_address,
        ).order_by(AuditEvent._meta.primary_key)
    )


async def test_new_tuesday_hours_are_offered_to_couples_at_once(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    ana = therapist(practice.therapist_id)
    assert await times(client, TUESDAY) == []

    page = await workspace.hours.replace_week(
        ana,
        None,
        [
            RangeIn("mon", "09:00", "12:00"),
            RangeIn("tue", "14:00", "16:00"),
            RangeIn("tue", "09:00", "10:00"),
        ],
        acting(ana),
    )

    assert await times(client, TUESDAY) == ["09:00", "14:00", "14:30", "15:00"]
    assert [(r.day, r.hours.label) for r in page.schedule.week] == [
        ("mon", "09:00–12:00"),
        ("tue", "09:00–10:00"),
        ("tue", "14:00–16:00"),
    ]
    consult = next(t for t in page.preview.types if t.slug == "consult")
    tuesday = next(d for d in consult.days if d.day == date(2026, 12, 8))
    assert [f"{s:%H:%M}" for s in tuesday.starts] == await times(client, TUESDAY)
    assert await audit_rows() == [
        {
            "actor": ana.actor.label,
            "action": "hours.replaced",
            "booking_reference": "",
            "record": "therapist:ana weekly hours, 3 ranges",
            "client_address": ADDRESS,
        }
    ]


async def test_a_week_with_problems_changes_nothing(
    workspace: Workspace, practice: Practice
) -> None:
    ana = therapist(practice.therapist_id)
    before = await week_rows(practice.therapist_id)

    with pytest.raises(ValidationFailed) as error:
        await workspace.hours.replace_week(
            ana,
            None,
            [RangeIn("tue", "09:00", "12:00"), RangeIn("tue", "11:00", "10:00")],
            acting(ana),
        )

    assert [f.field for f in error.value.fields] == ["ranges[1].end"]
    assert await week_rows(practice.therapist_id) == before
    assert await audit_rows() == []


async def test_a_day_off_and_other_hours_on_a_date_then_back_to_the_week(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    ana = therapist(practice.therapist_id)
    monday = "2026-12-07"
    await workspace.hours.set_override(ana, None, monday, True, [], acting(ana))
    assert await times(client, monday) == []

    page = await workspace.hours.set_override(
        ana, None, monday, False, [TimesIn("15:00", "16:00")], acting(ana)
    )
    assert await times(client, monday) == ["15:00"]
    assert [(o.day, o.closed) for o in page.schedule.overrides] == [(date(2026, 12, 7), False)]

    page = await workspace.hours.remove_override(ana, None, monday, acting(ana))
    assert await times(client, monday) == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert page.schedule.overrides == ()
    assert await DateOverride.count() == 0
    assert [r["action"] for r in await audit_rows()] == [
        "override.set",
        "override.set",
        "override.removed",
    ]
    assert {r["record"] for r in await audit_rows()} == {"therapist:ana override 2026-12-07"}


async def test_time_off_blocks_the_public_times_and_keeps_its_note_private(
    workspace: Workspace, practice: Practice, client: AsyncClient, database: Database
) -> None:
    ana = therapist(practice.therapist_id)

    page = await workspace.hours.add_time_off(
        ana, None, "2026-12-07T09:30", "2026-12-07T11:00", f"  {NOTE} ", acting(ana)
    )

    assert await times(client, "2026-12-07") == ["11:00"]
    (entry,) = page.schedule.time_off
    assert entry.note == NOTE
    assert f"{entry.starts_at:%Y-%m-%d %H:%M %Z}" == "2026-12-07 09:30 EST"
    stored = await TimeOff.select(TimeOff.reason, TimeOff.note_encrypted).first()
    assert stored is not None
    assert stored["reason"] == ""
    assert NOTE not in str(stored["note_encrypted"])
    keyring = get_settings().keyring()
    assert keyring.decrypt(stored["note_encrypted"], note_context(entry.id)) == NOTE.encode()
    if database.backend == "sqlite":
        # The file and its write-ahead log, where the latest pages are.
        for path in Path(database.sqlite_path).parent.glob("booking.sqlite3*"):
            assert NOTE.encode() not in await asyncio.to_thread(path.read_bytes)
    (event,) = await audit_rows()
    assert event["action"] == "time_off.added"
    assert NOTE not in str(event)

    await workspace.hours.remove_time_off(ana, None, str(entry.id), acting(ana))
    assert await times(client, "2026-12-07") == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    assert await TimeOff.count() == 0


async def test_one_therapist_cannot_touch_anothers_time_off(
    workspace: Workspace, practice: Practice
) -> None:
    ana = therapist(practice.therapist_id)
    ben = therapist(await make_therapist("ben"), account_id=12)
    page = await workspace.hours.add_time_off(
        ana, None, "2026-12-07T09:30", "2026-12-07T11:00", "", acting(ana)
    )
    (entry,) = page.schedule.time_off

    with pytest.raises(NotFound):
        await workspace.hours.remove_time_off(ben, None, str(entry.id), acting(ben))
    with pytest.raises(NotFound):
        await workspace.hours.remove_time_off(ben, "ana", str(entry.id), acting(ben))
    with pytest.raises(NotFound):
        await workspace.hours.replace_week(ben, "ana", [], acting(ben))

    assert await TimeOff.count() == 1
    assert len(await week_rows(practice.therapist_id)) == 1


async def test_two_saves_at_once_leave_one_whole_week(
    workspace: Workspace, practice: Practice
) -> None:
    ana = therapist(practice.therapist_id)
    found = await load_therapist(practice.therapist_id)
    assert found is not None
    mornings = [RangeIn(day, "09:00", "12:00") for day in ("mon", "tue", "wed", "thu")]
    afternoons = [RangeIn(day, "13:00", "17:00") for day in ("tue", "wed", "thu", "fri", "sat")]
    either = [
        [(weekday, time(9), time(12)) for weekday in (0, 1, 2, 3)],
        [(weekday, time(13), time(17)) for weekday in (1, 2, 3, 4, 5)],
    ]

    for _ in range(5):
        await asyncio.gather(
            workspace.editor.replace_week(found, mornings, acting(ana)),
            workspace.editor.replace_week(found, afternoons, acting(ana)),
        )
        assert await week_rows(practice.therapist_id) in either


async def test_rotating_keys_reencrypts_time_off_notes(
    workspace: Workspace, practice: Practice
) -> None:
    ana = therapist(practice.therapist_id)
    page = await workspace.hours.add_time_off(
        ana, None, "2026-12-07T09:30", "2026-12-07T11:00", NOTE, acting(ana)
    )
    (entry,) = page.schedule.time_off
    old = (get_settings().data_dir / "data_key").read_text().strip()
    new = f"k2027:{Keyring.generate_key()}"

    assert await rotate_time_off_note_keys(Keyring.parse(f"{new},{old}")) == 1
    assert await rotate_time_off_note_keys(Keyring.parse(f"{new},{old}")) == 0

    stored = await TimeOff.select(TimeOff.note_encrypted).first()
    assert stored is not None
    assert key_id_of(stored["note_encrypted"]) == "k2027"
    assert Keyring.parse(new).decrypt(stored["note_encrypted"], note_context(entry.id)) == (
        NOTE.encode()
    )
