"""Composite indexes for the availability queries (hand-written).

Piccolo runs a migration's raw steps before its table steps, so these live in their own
migration after the tables exist. Every overlap query bounds starts_at on both ends, so the
(therapist, starts_at) indexes serve it whatever the length of the history.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-27T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Indexes for availability queries"

INDEXES = (
    "CREATE UNIQUE INDEX therapist_offerings_pair"
    " ON therapist_offerings (therapist, consultation_type)",
    "CREATE INDEX weekly_hours_therapist ON weekly_hours (therapist)",
    "CREATE INDEX date_overrides_therapist_day ON date_overrides (therapist, day)",
    "CREATE INDEX time_off_therapist_starts ON time_off (therapist, starts_at)",
    "CREATE INDEX busy_intervals_therapist_starts ON busy_intervals (therapist, starts_at)",
    "CREATE INDEX bookings_therapist_starts ON bookings (therapist, starts_at)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    # Defined here, not at module level: a table class remembers the first engine it ran on,
    # and migrations run on more than one database in one process (the tests do).
    class RawSQL(Table):
        pass

    async def create_indexes() -> None:
        for statement in INDEXES:
            await RawSQL.raw(statement)

    async def drop_indexes() -> None:
        for statement in INDEXES:
            name = statement.split(" ON ")[0].split()[-1]
            await RawSQL.raw(f"DROP INDEX {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
