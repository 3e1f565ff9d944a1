"""Keeping every version of a partner's answers: a later submission adds, never overwrites."""

from __future__ import annotations

from datetime import datetime

from booking.core.crypto import Keyring
from booking.intake.tables import AnswerVersion


def version_context(reference: str, position: int, number: int) -> str:
    """Associated data binding one version of a partner's answers to them and its number."""
    return f"intake:{reference}:partner:{position}:version:{number}"


async def add_answer_version(
    keyring: Keyring,
    *,
    booking_id: int,
    partner_id: int,
    reference: str,
    position: int,
    answers: dict[str, object],
    questionnaire_version: str,
    flagged: bool,
    now: datetime,
) -> int:
    """Store the partner's next version (1, 2, …) encrypted; returns its number.

    Runs in the caller's write transaction, after it has updated the partner's row: that
    update holds the row (PostgreSQL) or the database (SQLite), so two submissions of one
    partner are numbered one after the other.
    """
    latest = await (
        AnswerVersion.select(AnswerVersion.number)
        .where(AnswerVersion.partner == partner_id)
        .order_by(AnswerVersion.number, ascending=False)
        .first()
    )
    number = latest["number"] + 1 if latest else 1
    await AnswerVersion.insert(
        AnswerVersion(
            booking=booking_id,
            partner=partner_id,
            position=position,
            number=number,
            answers=keyring.encrypt_json(answers, version_context(reference, position, number)),
            questionnaire_version=questionnaire_version,
            safety_flag=flagged,
            submitted_at=now,
        )
    )
    return number


async def booker_flagged_at_booking(booking_id: int) -> bool:
    """Whether the booker's own answers at booking (their version 1) raised the safety flag."""
    return bool(
        await AnswerVersion.exists().where(
            (AnswerVersion.booking == booking_id)
            & (AnswerVersion.position == 1)
            & (AnswerVersion.number == 1)
            & AnswerVersion.safety_flag.eq(True)
        )
    )
