"""A version stamp per therapist's calendar, raised by the database itself (hand-written).

`calendar_versions` holds one row per therapist whose calendar has changed (`therapist_id`,
`version`), and row 0 for the practice's directory (consultation types and their policies,
therapists, who offers what). Triggers raise the therapist's row in the same transaction as
every insert, delete and slot-moving update of `bookings`, `weekly_hours`, `date_overrides`,
`time_off` and `busy_intervals`, and row 0 on every change to `consultation_types`,
`therapists` and `therapist_offerings`, whoever writes them. A missing row reads as version 0.
Availability keeps what it read under these versions (booking.scheduling.cache).

A moved booking raises both therapists' rows, the lower id first, so two moves in opposite
directions on PostgreSQL take the row locks in the same order. On PostgreSQL inserts and
deletes raise each therapist's row once per statement (transition tables, therapists in id
order), so a bulk import leaves few dead row versions; updates are per row (a trigger with a
column list cannot have transition tables). TRUNCATE fires no row trigger;
the service never truncates (the test fixtures do, between tests, with fresh processes).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-02T13:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Calendar versions raised by triggers on every write that can move a slot"

# Tables whose rows belong to one therapist's calendar (column `therapist`), and for bookings
# the columns whose change can move a slot (availability reads no other).
CALENDAR_TABLES = ("weekly_hours", "date_overrides", "time_off", "busy_intervals", "bookings")
BOOKING_COLUMNS = "therapist, consultation_type, status, starts_at, blocked_until, hold_expires_at"
DIRECTORY_TABLES = ("consultation_types", "therapists", "therapist_offerings")

CREATE_TABLE = (
    "CREATE TABLE calendar_versions ("
    '"therapist_id" INTEGER PRIMARY KEY NOT NULL, "version" BIGINT NOT NULL DEFAULT 0)'
)


def _sqlite_raise(key: str) -> str:
    return (
        f"INSERT INTO calendar_versions (therapist_id, version) VALUES ({key}, 1)"
        " ON CONFLICT (therapist_id) DO UPDATE SET version = version + 1;"
    )


def sqlite_statements() -> list[str]:
    statements = [CREATE_TABLE]
    for table in CALENDAR_TABLES:
        columns = f" OF {BOOKING_COLUMNS}" if table == "bookings" else ""
        statements += [
            f"CREATE TRIGGER {table}_version_insert AFTER INSERT ON {table}"
            f" BEGIN {_sqlite_raise('NEW.therapist')} END",
            f"CREATE TRIGGER {table}_version_delete AFTER DELETE ON {table}"
            f" BEGIN {_sqlite_raise('OLD.therapist')} END",
            f"CREATE TRIGGER {table}_version_update AFTER UPDATE{columns} ON {table}"
            f" BEGIN {_sqlite_raise('OLD.therapist')} END",
            f"CREATE TRIGGER {table}_version_move AFTER UPDATE OF therapist ON {table}"
            f" WHEN NEW.therapist IS NOT OLD.therapist BEGIN {_sqlite_raise('NEW.therapist')} END",
        ]
    for table in DIRECTORY_TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            statements.append(
                f"CREATE TRIGGER {table}_version_{event.lower()} AFTER {event} ON {table}"
                f" BEGIN {_sqlite_raise('0')} END"
            )
    return statements


def postgres_statements() -> list[str]:
    statements = [
        CREATE_TABLE,
        "CREATE FUNCTION raise_calendar_version(key integer) RETURNS void LANGUAGE sql AS $$"
        " INSERT INTO calendar_versions (therapist_id, version) VALUES (key, 1)"
        " ON CONFLICT (therapist_id) DO UPDATE SET version = calendar_versions.version + 1 $$",
        "CREATE FUNCTION calendar_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN"
        " IF TG_OP = 'INSERT' THEN PERFORM raise_calendar_version(NEW.therapist);"
        " ELSIF TG_OP = 'DELETE' THEN PERFORM raise_calendar_version(OLD.therapist);"
        " ELSIF NEW.therapist = OLD.therapist THEN PERFORM raise_calendar_version(NEW.therapist);"
        " ELSE"
        " PERFORM raise_calendar_version(LEAST(OLD.therapist, NEW.therapist));"
        " PERFORM raise_calendar_version(GREATEST(OLD.therapist, NEW.therapist));"
        " END IF;"
        " RETURN NULL; END $$",
        "CREATE FUNCTION directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN PERFORM raise_calendar_version(0); RETURN NULL; END $$",
    ]
    for event, rows in (("inserted", "NEW"), ("deleted", "OLD")):
        statements.append(
            f"CREATE FUNCTION calendar_rows_{event}() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN"
            " INSERT INTO calendar_versions (therapist_id, version)"
            f" SELECT DISTINCT therapist, 1 FROM {rows.lower()}_rows ORDER BY therapist"
            " ON CONFLICT (therapist_id) DO UPDATE SET version = calendar_versions.version + 1;"
            " RETURN NULL; END $$"
        )
    for table in CALENDAR_TABLES:
        columns = f" OF {BOOKING_COLUMNS}" if table == "bookings" else ""
        statements += [
            f"CREATE TRIGGER {table}_version_update AFTER UPDATE{columns}"
            f" ON {table} FOR EACH ROW EXECUTE FUNCTION calendar_changed()",
            # Once per statement for inserts and deletes: an import of many rows raises each
            # therapist's row once, not once per row (fewer dead row versions to vacuum).
            f"CREATE TRIGGER {table}_version_insert AFTER INSERT ON {table}"
            " REFERENCING NEW TABLE AS new_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION calendar_rows_inserted()",
            f"CREATE TRIGGER {table}_version_delete AFTER DELETE ON {table}"
            " REFERENCING OLD TABLE AS old_rows"
            " FOR EACH STATEMENT EXECUTE FUNCTION calendar_rows_deleted()",
        ]
    for table in DIRECTORY_TABLES:
        statements.append(
            f"CREATE TRIGGER {table}_version AFTER INSERT OR DELETE OR UPDATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION directory_changed()"
        )
    return statements


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    # Defined here, not at module level: a table class remembers the first engine it ran on.
    class RawSQL(Table):
        pass

    async def apply() -> None:
        engine = engine_finder()
        postgres = engine is not None and engine.engine_type == "postgres"
        for statement in postgres_statements() if postgres else sqlite_statements():
            await RawSQL.raw(statement)

    manager.add_raw(apply)
    return manager
