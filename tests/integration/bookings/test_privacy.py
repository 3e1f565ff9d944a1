"""Intake answers are encrypted at rest, never logged, and keys can be rotated."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from httpx import AsyncClient

from booking.bookings.contexts import cancel_reason_context, couple_context, partner_context
from booking.bookings.tables import Booking, Partner
from booking.core.crypto import DecryptionError, Keyring, key_id_of
from booking.core.settings import Settings, get_settings
from booking.intake.services import rotate_intake_keys
from booking.intake.tables import AnswerVersion
from booking.intake.versions import version_context
from booking.web.app import create_app
from tests.asgi import asgi_transport
from tests.factories import (
    ALL_CONSENTS,
    DISTINCTIVE,
    booking_request,
    couple_answers,
    partner_answers,
)
from tests.fixtures.databases import Database
from tests.integration.practice import AT_9, AT_10, Practice, intake_token, manage_token


async def book_with_distinctive_answers(client: AsyncClient) -> str:
    body = booking_request(AT_10)
    body["intake"]["couple"] = couple_answers(hoped_for_help=f"Couple: {DISTINCTIVE}")
    body["intake"]["booker"] = partner_answers(hoped_for_change=f"Booker: {DISTINCTIVE}")
    created = await client.post("/api/v1/bookings", json=body)
    assert created.status_code == 201
    reference = str(created.json()["reference"])
    second = await client.post(
        f"/api/v1/intake/{intake_token(reference, 2)}",
        json={
            "answers": partner_answers(private_contact=f"Partner: {DISTINCTIVE}"),
            "consents": ALL_CONSENTS,
        },
    )
    assert second.status_code == 200
    return reference


def raw_database(database: Database) -> bytes:
    if database.backend == "sqlite":
        path = Path(database.sqlite_path)
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert database.url is not None
    return subprocess.run(
        ["pg_dump", "--no-owner", database.url], capture_output=True, check=True, timeout=120
    ).stdout


async def test_no_answer_is_in_clear_text_in_the_database_or_the_logs(
    client: AsyncClient, practice: Practice, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await book_with_distinctive_answers(client)

    dump = raw_database(database)

    assert b"Robin Park" in dump  # the dump really holds the booking...
    assert DISTINCTIVE.encode() not in dump  # ...but none of the answers
    assert b"chores" not in dump
    assert DISTINCTIVE not in caplog.text


async def test_rotation_reencrypts_and_old_answers_stay_readable(
    client: AsyncClient, practice: Practice
) -> None:
    reference = await book_with_distinctive_answers(client)
    old = (get_settings().data_dir / "data_key").read_text().strip()
    new = f"k2026:{Keyring.generate_key()}"

    rotated = await rotate_intake_keys(Keyring.parse(f"{new},{old}"))
    # The couple part, both partners' parts, and the one version each of those has so far.
    assert rotated == 5
    assert await rotate_intake_keys(Keyring.parse(f"{new},{old}")) == 0  # nothing left to do

    only_new = Keyring.parse(new)
    booking = await Booking.select(Booking.couple_answers).first()
    assert booking is not None
    assert key_id_of(booking["couple_answers"]) == "k2026"
    couple = only_new.decrypt_json(booking["couple_answers"], couple_context(reference))
    assert couple["hoped_for_help"] == f"Couple: {DISTINCTIVE}"  # type: ignore[index]
    partners = await Partner.select(Partner.position, Partner.answers).order_by(Partner.position)
    second = only_new.decrypt_json(partners[1]["answers"], partner_context(reference, 2))
    assert second["private_contact"] == f"Partner: {DISTINCTIVE}"  # type: ignore[index]
    versions = await AnswerVersion.select().order_by(AnswerVersion.position)
    assert {key_id_of(v["answers"]) for v in versions} == {"k2026"}
    first = only_new.decrypt_json(versions[0]["answers"], version_context(reference, 1, 1))
    assert first["hoped_for_change"] == f"Booker: {DISTINCTIVE}"  # type: ignore[index]


async def test_a_cancel_reason_is_encrypted_at_rest_and_rotated(
    client: AsyncClient, practice: Practice, database: Database
) -> None:
    created = await client.post("/api/v1/bookings", json=booking_request(AT_10))
    reference = created.json()["reference"]
    reason = f"Reason: {DISTINCTIVE}"
    cancelled = await client.post(
        f"/api/v1/bookings/{manage_token(created.json()['manage_url'])}/cancel",
        json={"reason": f"  {reason} "},
    )
    assert cancelled.status_code == 200

    assert DISTINCTIVE.encode() not in raw_database(database)
    (row,) = await Booking.raw("SELECT cancel_reason, cancel_reason_encrypted FROM bookings")
    assert row["cancel_reason"] == ""
    assert DISTINCTIVE not in row["cancel_reason_encrypted"]
    keyring = get_settings().keyring()
    context = cancel_reason_context(reference)
    assert keyring.decrypt(row["cancel_reason_encrypted"], context).decode() == reason

    new = f"k2026:{Keyring.generate_key()}"
    old = (get_settings().data_dir / "data_key").read_text().strip()
    # The couple part, the booker's part and its version 1, and the reason.
    assert await rotate_intake_keys(Keyring.parse(f"{new},{old}")) == 4
    rotated = await Booking.select(Booking.cancel_reason_encrypted).first()
    assert rotated is not None
    assert Keyring.parse(new).decrypt(rotated["cancel_reason_encrypted"], context) == (
        reason.encode()
    )


async def test_a_ciphertext_moved_to_another_booking_does_not_decrypt(
    client: AsyncClient, practice: Practice
) -> None:
    first = await book_with_distinctive_answers(client)
    keyring = get_settings().keyring()
    booking = await Booking.select(Booking.couple_answers).where(Booking.reference == first).first()
    assert booking is not None
    with pytest.raises(DecryptionError):
        keyring.decrypt(booking["couple_answers"], couple_context("ZZZZ-ZZZZ"))


async def test_write_endpoints_are_rate_limited_per_client(
    database: Database, practice: Practice
) -> None:
    settings = Settings.from_env({**os.environ, "RATE_LIMIT_PER_MINUTE": "3"})
    app = create_app(settings, database.engine)
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=asgi_transport(app), base_url="http://t") as client,
    ):
        statuses = [
            (await client.post("/api/v1/bookings", json=booking_request(AT_9))).status_code
            for _ in range(4)
        ]
        limited = await client.post("/api/v1/bookings", json=booking_request(AT_9))
        reads = [(await client.get("/api/v1/therapists")).status_code for _ in range(5)]

    assert all(s in (201, 409) for s in statuses[:3])
    assert statuses[3] == 429
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) > 0
    assert reads == [200] * 5
