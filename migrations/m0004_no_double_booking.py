"""No double booking, decided by the database (hand-written).

PostgreSQL: an exclusion constraint over the therapist and the blocked time range of every live
booking; two live bookings of one therapist can never overlap, whatever the application does.
Its violation (SQLSTATE 23P01) is reported to clients as 409 slot_unavailable. SQLite has no
such constraint: there the booking transaction checks and inserts under BEGIN IMMEDIATE, which
serialises writers (booking.bookings.create).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-11-27T17:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Unique manage tokens; no overlapping live bookings (PostgreSQL constraint)"

COMMON = (
    "CREATE UNIQUE INDEX bookings_manage_token_hash ON bookings (manage_token_hash)",
    # Partial: it serves the hold sweep only, and never tempts a planner away from
    # bookings_therapist_starts for the availability query's status filter.
    "CREATE INDEX bookings_pending_holds ON bookings (hold_expires_at)"
    " WHERE status = 'pending_payment'",
    "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
)
POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap EXCLUDE USING gist"
    " (therapist WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&)"
    " WHERE (status IN ('pending_payment', 'confirmed'))",
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
