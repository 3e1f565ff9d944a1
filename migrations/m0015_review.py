"""The admin's review (hand-written): where each booking stands in the review, internal notes,
erasure, the outbox's addressee for a therapist a booking was moved away from, and an audit
log that the database itself keeps append-only.

- `bookings.review_status` (new, in_review, accepted, referred, closed) with who changed it
  last and when; each change is also an audit row, which is the history. An index on
  (review_status, starts_at) serves the queue's filter and order.
- `bookings.erased_at`: set when a couple's data was erased on request (booking.staff.erase).
- `review_notes`: internal notes, their text encrypted with the intake keyring.
- `outbox_messages.therapist_id`: the therapist a message is addressed to when it is not the
  booking's own (the CANCEL to the therapist a booking was reassigned away from).
- Triggers refuse UPDATE and DELETE on `audit_events` on both engines. TRUNCATE (the test
  fixtures' way of emptying PostgreSQL between tests) fires no row trigger and stays possible
  for the database owner; the service itself never deletes an audit row.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-02T12:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Review status and notes, erasure, reassignment addressee, append-only audit"

COMMON = (
    "ALTER TABLE bookings ADD COLUMN review_status VARCHAR(20) NOT NULL DEFAULT 'new'",
    "ALTER TABLE bookings ADD COLUMN review_changed_at TIMESTAMPTZ DEFAULT null",
    "ALTER TABLE bookings ADD COLUMN review_changed_by VARCHAR(120) NOT NULL DEFAULT ''",
    "ALTER TABLE bookings ADD COLUMN erased_at TIMESTAMPTZ DEFAULT null",
    "CREATE INDEX bookings_review_queue ON bookings (review_status, starts_at)",
    "ALTER TABLE outbox_messages ADD COLUMN therapist_id INTEGER DEFAULT null",
)
SQLITE = (
    'CREATE TABLE review_notes ("id" INTEGER PRIMARY KEY NOT NULL,'
    ' "booking" INTEGER NOT NULL REFERENCES "bookings" ("id") ON DELETE CASCADE'
    " ON UPDATE CASCADE,"
    " \"author\" VARCHAR(120) NOT NULL DEFAULT '',"
    " \"body\" TEXT NOT NULL DEFAULT '',"
    ' "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    "CREATE INDEX review_notes_booking ON review_notes (booking)",
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events"
    " BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events"
    " BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
)
POSTGRES = (
    'CREATE TABLE review_notes ("id" SERIAL PRIMARY KEY NOT NULL,'
    ' "booking" INTEGER NOT NULL REFERENCES "bookings" ("id") ON DELETE CASCADE'
    " ON UPDATE CASCADE,"
    " \"author\" VARCHAR(120) NOT NULL DEFAULT '',"
    " \"body\" TEXT NOT NULL DEFAULT '',"
    ' "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
    "CREATE INDEX review_notes_booking ON review_notes (booking)",
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP"
    " USING ERRCODE = 'insufficient_privilege'; END $$",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events"
    " FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    # Defined here, not at module level: a table class remembers the first engine it ran on.
    class RawSQL(Table):
        pass

    async def apply() -> None:
        engine = engine_finder()
        postgres = engine is not None and engine.engine_type == "postgres"
        for statement in COMMON + (POSTGRES if postgres else SQLITE):
            await RawSQL.raw(statement)

    manager.add_raw(apply)
    return manager
