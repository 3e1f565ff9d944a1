"""Staff accounts, their recovery codes and sessions, sign-in failures per address, and the
audit log's user agent (hand-written, one statement list per engine).

staff_accounts.email is kept lower-cased and unique; `therapist` is unique, so a therapist has
at most one account (NULL, for admins, repeats freely on both engines). Sessions and recovery
codes keep only SHA-256 digests of what the person holds. audit_events gains `user_agent`
(existing rows: "").
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-02T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Staff accounts, recovery codes, sessions, sign-in failures; audit user agent"


def _tables(serial: str, bigint: str) -> tuple[str, ...]:
    return (
        f'CREATE TABLE "staff_accounts" ("id" {serial},'
        ' "email" VARCHAR(254) NOT NULL UNIQUE,'
        " \"name\" VARCHAR(120) NOT NULL DEFAULT '',"
        ' "role" VARCHAR(20) NOT NULL,'
        ' "therapist" INTEGER UNIQUE DEFAULT NULL REFERENCES "therapists" ("id")'
        " ON DELETE RESTRICT ON UPDATE CASCADE,"
        " \"password_hash\" VARCHAR(255) NOT NULL DEFAULT '',"
        ' "must_change_password" BOOLEAN NOT NULL DEFAULT false,'
        " \"totp_secret\" TEXT NOT NULL DEFAULT '',"
        " \"totp_pending\" TEXT NOT NULL DEFAULT '',"
        f' "totp_last_step" {bigint} NOT NULL DEFAULT 0,'
        ' "disabled" BOOLEAN NOT NULL DEFAULT false,'
        ' "failed_attempts" INTEGER NOT NULL DEFAULT 0,'
        ' "locks" INTEGER NOT NULL DEFAULT 0,'
        ' "locked_until" TIMESTAMPTZ DEFAULT NULL,'
        ' "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)',
        f'CREATE TABLE "staff_recovery_codes" ("id" {serial},'
        ' "account" INTEGER NOT NULL REFERENCES "staff_accounts" ("id")'
        " ON DELETE CASCADE ON UPDATE CASCADE,"
        ' "code_hash" VARCHAR(64) NOT NULL UNIQUE,'
        ' "used_at" TIMESTAMPTZ DEFAULT NULL)',
        'CREATE INDEX staff_recovery_codes_account ON "staff_recovery_codes" ("account")',
        f'CREATE TABLE "staff_sessions" ("id" {serial},'
        ' "id_hash" VARCHAR(64) NOT NULL UNIQUE,'
        ' "account" INTEGER NOT NULL REFERENCES "staff_accounts" ("id")'
        " ON DELETE CASCADE ON UPDATE CASCADE,"
        ' "stage" VARCHAR(20) NOT NULL,'
        ' "created_at" TIMESTAMPTZ NOT NULL,'
        ' "last_seen_at" TIMESTAMPTZ NOT NULL)',
        'CREATE INDEX staff_sessions_account ON "staff_sessions" ("account")',
        f'CREATE TABLE "staff_sign_in_failures" ("id" {serial},'
        ' "address" VARCHAR(64) NOT NULL,'
        ' "at" TIMESTAMPTZ NOT NULL)',
        'CREATE INDEX staff_sign_in_failures_address ON "staff_sign_in_failures" ("address")',
        'CREATE INDEX staff_sign_in_failures_at ON "staff_sign_in_failures" ("at")',
        "ALTER TABLE audit_events ADD COLUMN user_agent VARCHAR(200) NOT NULL DEFAULT ''",
    )


SQLITE = _tables("INTEGER PRIMARY KEY NOT NULL", "INTEGER")
POSTGRES = _tables("SERIAL PRIMARY KEY", "BIGINT")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    # Defined here, not at module level: a table class remembers the first engine it ran on.
    class RawSQL(Table):
        pass

    async def apply() -> None:
        engine = engine_finder()
        postgres = engine is not None and engine.engine_type == "postgres"
        for statement in POSTGRES if postgres else SQLITE:
            await RawSQL.raw(statement)

    manager.add_raw(apply)
    return manager
