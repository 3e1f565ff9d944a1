"""Profiles and policies as the admin keeps them: each field checked and every problem named,
each change audited (the fields, never their values) and on the public side at once."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from booking.core.audit import AuditEvent
from booking.core.errors import NotFound, ValidationFailed
from booking.staff.policies import ProfileChange, TypeChange
from tests.integration.practice import Practice
from tests.integration.staff.conftest import ADMIN, Staff, therapist_principal


async def test_a_profile_change_is_public_at_once_and_audited(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    saved = await staff.policies.update_profile(
        ADMIN,
        "ana",
        ProfileChange(
            name="  Ana   Lima ",
            credentials="RP (Qualifying)",
            bio="Works with couples on trust and repair.\nSpeaks plainly.",
            languages=("English", "Portuguese", "English"),
            modes=("video",),
            timezone="America/Vancouver",
            accepting_new_couples=False,
        ),
    )

    assert saved.name == "Ana Lima"
    public = (await client.get("/api/v1/therapists/ana")).json()
    assert public["credentials"] == "RP (Qualifying)"
    assert public["languages"] == ["English", "Portuguese"]
    assert public["modes"] == ["video"]
    assert public["timezone"] == "America/Vancouver"
    assert public["accepting_new_couples"] is False
    (event,) = await AuditEvent.select(AuditEvent.actor, AuditEvent.record).where(
        AuditEvent.action == "therapist.changed"
    )
    assert event["actor"] == "staff:1"
    assert event["record"] == (
        "therapist:ana credentials,bio,languages,modes,timezone,accepting_new_couples"
    )
    assert "Portuguese" not in event["record"]


async def test_every_problem_of_a_profile_is_named_and_nothing_saved(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await staff.policies.update_profile(
            ADMIN,
            "ana",
            ProfileChange(
                name="  ",
                languages=(),
                modes=("telepathy",),
                timezone="Mars/Olympus",
                credentials="x" * 201,
            ),
        )

    assert sorted(f.field for f in refused.value.fields) == [
        "credentials",
        "languages",
        "modes",
        "name",
        "timezone",
    ]
    assert (await client.get("/api/v1/therapists/ana")).json()["name"] == "Ana Lima"
    assert await AuditEvent.count() == 0
    with pytest.raises(NotFound):
        await staff.policies.update_profile(ADMIN, "nobody", ProfileChange(name="X"))


async def test_a_policy_change_is_enforced_for_the_public_at_once(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    before = await client.get(
        "/api/v1/availability",
        params={"consultation_type": "consult", "therapist": "ana", "start": "2026-12-07"},
    )
    assert before.json()["slots"]

    await staff.policies.update_type(
        ADMIN,
        "consult",
        TypeChange(
            duration_minutes=60,
            horizon_days=3,  # Monday 7 December is now beyond the horizon
            price_amount=9000,
            deposit_amount=2000,
            refund_window_hours=24,
            reschedule_cutoff_hours=12,
            payment_hold_minutes=20,
            daily_cap=2,
        ),
    )

    types = {t["slug"]: t for t in (await client.get("/api/v1/consultation-types")).json()}
    consult = types["consult"]
    assert consult["duration_minutes"] == 60
    assert consult["price"]["amount"] == 9000
    assert consult["deposit"]["amount"] == 2000
    assert consult["policy"]["horizon_days"] == 3
    assert consult["policy"]["daily_cap"] == 2
    after = await client.get(
        "/api/v1/availability",
        params={"consultation_type": "consult", "therapist": "ana", "start": "2026-12-07"},
    )
    assert after.json()["slots"] == []
    (event,) = await AuditEvent.select(AuditEvent.record).where(
        AuditEvent.action == "consultation_type.changed"
    )
    assert event["record"].startswith("consultation_type:consult duration_minutes,horizon_days")


async def test_policies_out_of_range_are_named_each(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await staff.policies.update_type(
            ADMIN,
            "consult",
            TypeChange(
                duration_minutes=0,
                buffer_after_minutes=-5,
                min_notice_minutes=10**9,
                horizon_days=0,
                payment_hold_minutes=1,
                deposit_amount=500,  # no price: a deposit cannot stand alone
                currency="doubloons",
                modes=(),
            ),
        )

    assert sorted(f.field for f in refused.value.fields) == [
        "buffer_after_minutes",
        "currency",
        "deposit_amount",
        "duration_minutes",
        "horizon_days",
        "min_notice_minutes",
        "modes",
        "payment_hold_minutes",
    ]
    with pytest.raises(ValidationFailed) as above_price:
        await staff.policies.update_type(ADMIN, "paid", TypeChange(deposit_amount=20000))
    assert above_price.value.fields[0].field == "deposit_amount"
    assert await AuditEvent.count() == 0


async def test_a_therapist_changes_no_profile_or_policy(
    client: AsyncTestClient[Any], practice: Practice, staff: Staff
) -> None:
    therapist = therapist_principal(practice.therapist_id)
    with pytest.raises(NotFound):
        await staff.policies.update_profile(therapist, "ana", ProfileChange(name="Mallory"))
    with pytest.raises(NotFound):
        await staff.policies.update_type(therapist, "consult", TypeChange(horizon_days=1))
