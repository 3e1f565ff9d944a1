"""Migration m0007 on a database that already holds bookings: nothing is lost, less is clear."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from piccolo.engine.base import Engine

from booking.bookings.contexts import cancel_reason_context, partner_context
from booking.bookings.tables import Booking
from booking.core.settings import get_settings
from booking.intake.versions import version_context
from booking.piccolo_app import migrate
from tests.factories import DISTINCTIVE, partner_answers
from tests.fixtures.databases import BACKENDS, migrated_up_to
from tests.integration.conftest import NOW
from tests.integration.practice import make_practice

BEFORE = "2026-11-27T18:10:00:000000"  # m0006


@pytest.fixture(params=BACKENDS)
async def before_m0007(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Engine[Any]]:
    """An empty database of its own, migrated up to m0006 only."""
    async with migrated_up_to(request.param, BEFORE, tmp_path) as engine:
        yield engine


async def raw(sql: str, *values: Any) -> list[dict[str, Any]]:
    """SQL as a database at m0006 understands it (the table classes are m0007's)."""
    return list(await Booking.raw(sql, *values))


async def test_existing_answers_become_version_one_and_reasons_are_encrypted(
    before_m0007: Engine[Any],
) -> None:
    practice = await make_practice()
    keyring = get_settings().keyring()
    answers = partner_answers(harmed_past_year="yes", private_contact=DISTINCTIVE)
    support = {"message": "We are here.", "resources": [{"name": "Line", "contact": "911"}]}
    body = {"reference": "ABCD-EFGH", "status": "confirmed", "support": support}
    for reference, reason in (("ABCD-EFGH", f"Reason: {DISTINCTIVE}"), ("JKMN-PQRS", "")):
        await raw(
            "INSERT INTO bookings (reference, therapist, consultation_type, status, mode,"
            " starts_at, ends_at, blocked_until, created_at, manage_generation, sequence,"
            " questionnaire_version, safety_flag, viewer_timezone, cancel_reason, updated_at)"
            " VALUES ({}, {}, {}, 'cancelled', 'video', {}, {}, {}, {}, 0, 1, 'couples-2026-1',"
            " {}, '', {}, {})",
            reference,
            practice.therapist_id,
            practice.type_id,
            NOW + timedelta(days=5),
            NOW + timedelta(days=5, minutes=50),
            NOW + timedelta(days=5, hours=1),
            NOW,
            bool(reason),
            reason,
            NOW,
        )
    (booking,) = await raw("SELECT id FROM bookings WHERE reference = 'ABCD-EFGH'")
    booker = keyring.encrypt_json(answers, partner_context("ABCD-EFGH", 1))
    for position, sealed in ((1, booker), (2, None)):
        await raw(
            "INSERT INTO booking_partners (booking, position, name, email, phone, pronouns,"
            " intake_generation, answers, questionnaire_version, intake_completed_at,"
            " safety_flag, consents, consented_at)"
            " VALUES ({}, {}, 'Robin', 'robin@example.org', '', '', 0, {}, 'couples-2026-1',"
            " {}, {}, {}, {})",
            booking["id"],
            position,
            sealed,
            NOW if sealed else None,
            sealed is not None,
            "{}",
            NOW if sealed else None,
        )
    await raw(
        "INSERT INTO idempotency_keys (key, request_hash, booking, response_status,"
        " response_body, created_at) VALUES ('k1', 'h', {}, 201, {}, {})",
        booking["id"],
        msgspec.json.encode(body).decode(),
        NOW,
    )

    await migrate(before_m0007)

    versions = await raw("SELECT * FROM intake_answer_versions")
    assert len(versions) == 1  # only the partner who had answered
    (version,) = versions
    assert (version["position"], version["number"], bool(version["safety_flag"])) == (1, 1, True)
    opened = keyring.decrypt_json(version["answers"], version_context("ABCD-EFGH", 1, 1))
    assert opened == answers
    reasons = await raw(
        "SELECT reference, cancel_reason, cancel_reason_encrypted FROM bookings ORDER BY id",
    )
    assert [(r["reference"], r["cancel_reason"]) for r in reasons] == [
        ("ABCD-EFGH", ""),
        ("JKMN-PQRS", ""),
    ]
    sealed_reason = reasons[0]["cancel_reason_encrypted"]
    context = cancel_reason_context("ABCD-EFGH")
    assert keyring.decrypt(sealed_reason, context).decode() == f"Reason: {DISTINCTIVE}"
    assert reasons[1]["cancel_reason_encrypted"] is None
    (stored,) = await raw("SELECT response_body FROM idempotency_keys")
    assert msgspec.json.decode(stored["response_body"]) == {**body, "support": None}
