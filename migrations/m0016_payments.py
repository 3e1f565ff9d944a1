"""Deposits (hand-written): the `payments` table, one row per booking.

A unique index on `booking` keeps it one; unique indexes on the SetupIntent and PaymentIntent
ids let the webhook and reconciliation find a payment by what Stripe names (and no intent
ever belongs to two bookings).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-02T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Payments: the deposit of a booking"

COLUMNS = (
    ' "booking" INTEGER NOT NULL REFERENCES "bookings" ("id") ON DELETE CASCADE'
    " ON UPDATE CASCADE,"
    ' "setup_intent_id" VARCHAR(255) DEFAULT null,'
    ' "setup_client_secret" VARCHAR(255) DEFAULT null,'
    ' "payment_intent_id" VARCHAR(255) DEFAULT null,'
    ' "attempt" INTEGER NOT NULL DEFAULT 0,'
    ' "amount" INTEGER NOT NULL DEFAULT 0,'
    " \"currency\" VARCHAR(3) NOT NULL DEFAULT '',"
    ' "refunded_amount" INTEGER NOT NULL DEFAULT 0,'
    " \"status\" VARCHAR(20) NOT NULL DEFAULT 'pending',"
    " \"failure_message\" VARCHAR(500) NOT NULL DEFAULT '',"
    ' "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,'
    ' "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,'
    ' "paid_at" TIMESTAMPTZ DEFAULT null)'
)
INDEXES = (
    "CREATE UNIQUE INDEX payments_booking ON payments (booking)",
    "CREATE UNIQUE INDEX payments_setup_intent ON payments (setup_intent_id)",
    "CREATE UNIQUE INDEX payments_payment_intent ON payments (payment_intent_id)",
    "CREATE INDEX payments_status ON payments (status)",
)
SQLITE = ('CREATE TABLE payments ("id" INTEGER PRIMARY KEY NOT NULL,' + COLUMNS, *INDEXES)
POSTGRES = ('CREATE TABLE payments ("id" SERIAL PRIMARY KEY NOT NULL,' + COLUMNS, *INDEXES)


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
