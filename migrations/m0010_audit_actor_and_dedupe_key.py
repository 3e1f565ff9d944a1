"""The audit actor as a kind and a reference, audit indexes, the outbox's dedupe key
(hand-written).

`audit_events` gains `actor_kind` (couple, partner, staff, system) and `actor_ref` (the
partner's position, the staff member's id), filled for existing rows from the `actor` label
they kept ("partner:2", "staff:7", "couple", "system"; the booker of early rows is partner
1), and indexes on `at` and `action` for the questions asked of it (what happened when, every
event of one kind). The outbox's `idempotency_key` becomes `dedupe_key`, its unique index
with it (PostgreSQL names the constraint after the column; SQLite's automatic index has no
column in its name): it was never the API's Idempotency-Key, whose table keeps its name.
SQLite renames a column from 3.25 on.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-02T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Audit actor kind and reference, audit indexes, outbox dedupe_key"

COMMON = (
    "ALTER TABLE audit_events ADD COLUMN actor_kind VARCHAR(10) NOT NULL DEFAULT 'system'",
    "ALTER TABLE audit_events ADD COLUMN actor_ref VARCHAR(40) NOT NULL DEFAULT ''",
    "UPDATE audit_events SET"
    " actor_kind = CASE"
    " WHEN actor LIKE 'partner:%' OR actor = 'booker' THEN 'partner'"
    " WHEN actor LIKE 'staff:%' THEN 'staff'"
    " WHEN actor = 'couple' THEN 'couple'"
    " ELSE 'system' END,"
    " actor_ref = CASE"
    " WHEN actor LIKE 'partner:%' THEN substr(actor, 9, 40)"
    " WHEN actor LIKE 'staff:%' THEN substr(actor, 7, 40)"
    " WHEN actor = 'booker' THEN '1'"
    " ELSE '' END",
    "CREATE INDEX audit_events_at ON audit_events (at)",
    "CREATE INDEX audit_events_action ON audit_events (action)",
    "ALTER TABLE outbox_messages RENAME COLUMN idempotency_key TO dedupe_key",
)
POSTGRES = (
    "ALTER TABLE outbox_messages RENAME CONSTRAINT outbox_messages_idempotency_key_key"
    " TO outbox_messages_dedupe_key_key",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    # Defined here, not at module level: a table class remembers the first engine it ran on.
    class RawSQL(Table):
        pass

    async def apply() -> None:
        engine = engine_finder()
        statements = COMMON + (POSTGRES if engine and engine.engine_type == "postgres" else ())
        for statement in statements:
            await RawSQL.raw(statement)

    manager.add_raw(apply)
    return manager
