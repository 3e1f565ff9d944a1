"""Every version of a partner's answers; safety flags resolved by staff; reasons encrypted.

Adds the `intake_answer_versions` table (unique on partner and number), the booking's
`safety_resolved_at` / `safety_resolved_by` and `cancel_reason_encrypted` columns. Then, in the
same transaction, moves what exists (the intake keyring is needed only when there is some):
each partner's current answers become their version 1, each clear cancel reason is encrypted
into the new column and the old one emptied, and stored idempotency answers lose `support`.
"""

from typing import Any

import msgspec
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-02T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Answer versions, safety flag resolution, encrypted cancel reasons"


class Booking(Table, tablename="bookings", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


class Partner(Table, tablename="booking_partners", schema=None):
    id = Serial(null=False, primary_key=True, db_column_name="id")


INDEXES = (
    "CREATE UNIQUE INDEX intake_answer_versions_partner_number"
    " ON intake_answer_versions (partner, number)",
    "CREATE INDEX intake_answer_versions_booking ON intake_answer_versions (booking)",
)


def _params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(overrides)
    return params


def _foreign_key(references: type[Table]) -> dict[str, Any]:
    return _params(
        references=references,
        on_delete=OnDelete.cascade,
        on_update=OnUpdate.cascade,
        target_column=None,
    )


class ThenMoveData(MigrationManager):
    """Runs the schema changes, then `move_existing_data`, in one transaction.

    (A manager's raw steps run before its tables and columns exist.)
    """

    async def run(self, backwards: bool = False) -> None:
        engine = engine_finder()
        assert engine is not None
        async with engine.transaction():
            await super().run(backwards=backwards)
            if not backwards and not self.preview:
                await move_existing_data()


async def move_existing_data() -> None:
    # The contexts are the stored format of the ciphertexts: the application's own helpers.
    from booking.bookings.contexts import cancel_reason_context, partner_context
    from booking.core.settings import get_settings
    from booking.intake.versions import version_context

    # Defined here, not at module level: a table class remembers the first engine it ran on.
    class RawSQL(Table):
        pass

    for statement in INDEXES:
        await RawSQL.raw(statement)
    answered = await RawSQL.raw(
        "SELECT p.id, p.position, p.answers, b.reference FROM booking_partners p"
        " JOIN bookings b ON b.id = p.booking WHERE p.answers IS NOT NULL"
    )
    reasons = await RawSQL.raw(
        "SELECT id, reference, cancel_reason FROM bookings WHERE cancel_reason <> ''"
    )
    keyring = get_settings().keyring() if answered or reasons else None
    for row in answered:
        assert keyring is not None
        reference, position = row["reference"], row["position"]
        answers = keyring.decrypt(row["answers"], partner_context(reference, position))
        await RawSQL.raw(
            "INSERT INTO intake_answer_versions (booking, partner, position, number, answers,"
            " questionnaire_version, safety_flag, submitted_at)"
            " SELECT p.booking, p.id, p.position, 1, {}, p.questionnaire_version,"
            " p.safety_flag, COALESCE(p.intake_completed_at, b.created_at)"
            " FROM booking_partners p JOIN bookings b ON b.id = p.booking WHERE p.id = {}",
            keyring.encrypt(answers, version_context(reference, position, 1)),
            row["id"],
        )
    for row in reasons:
        assert keyring is not None
        sealed = keyring.encrypt(
            row["cancel_reason"].strip().encode("utf-8"), cancel_reason_context(row["reference"])
        )
        await RawSQL.raw(
            "UPDATE bookings SET cancel_reason_encrypted = {}, cancel_reason = '' WHERE id = {}",
            sealed,
            row["id"],
        )
    stored = await RawSQL.raw(
        "SELECT id, response_body FROM idempotency_keys WHERE response_body <> ''"
    )
    for row in stored:
        body = msgspec.json.decode(row["response_body"])
        if isinstance(body, dict) and body.get("support") is not None:
            body["support"] = None
            await RawSQL.raw(
                "UPDATE idempotency_keys SET response_body = {} WHERE id = {}",
                msgspec.json.encode(body).decode(),
                row["id"],
            )


async def forwards() -> MigrationManager:
    manager = ThenMoveData(migration_id=ID, app_name="booking", description=DESCRIPTION)

    manager.add_table(
        class_name="AnswerVersion", tablename="intake_answer_versions", schema=None, columns=None
    )
    versions: list[tuple[str, type[Any], dict[str, Any]]] = [
        ("booking", ForeignKey, _foreign_key(Booking)),
        ("partner", ForeignKey, _foreign_key(Partner)),
        ("position", Integer, _params(default=0)),
        ("number", Integer, _params(default=0)),
        ("answers", Text, _params(default="")),
        ("questionnaire_version", Varchar, _params(length=40, default="")),
        ("safety_flag", Boolean, _params(default=False)),
        ("submitted_at", Timestamptz, _params(default=TimestamptzNow())),
    ]
    for name, column_class, params in versions:
        manager.add_column(
            table_class_name="AnswerVersion",
            tablename="intake_answer_versions",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    bookings: list[tuple[str, type[Any], dict[str, Any]]] = [
        ("safety_resolved_at", Timestamptz, _params(default=None, null=True)),
        ("safety_resolved_by", Varchar, _params(length=120, default="")),
        ("cancel_reason_encrypted", Text, _params(default=None, null=True)),
    ]
    for name, column_class, params in bookings:
        manager.add_column(
            table_class_name="Booking",
            tablename="bookings",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
