"""Stripe's events and the deposit's refunds (hand-written).

- `stripe_events`: the id of every Stripe event the webhook acted on, written in the
  transaction of its effect, so a replayed or re-sent event does nothing the second time.
- `payment_refunds`: one row per refund the service decided on (a cancellation inside the
  refund window, a payment that came too late), keyed by its deterministic idempotency key,
  with the id Stripe gave the refund once it exists. The stored id, not Stripe's idempotency
  (the emulator has none), is what keeps a retried refund from refunding twice.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-02T13:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Stripe events acted on, and the deposit refunds"

COLUMNS_EVENTS = (
    ' "event_id" VARCHAR(255) NOT NULL UNIQUE,'
    " \"type\" VARCHAR(100) NOT NULL DEFAULT '',"
    " \"payment_intent\" VARCHAR(255) NOT NULL DEFAULT '',"
    " \"effect\" VARCHAR(40) NOT NULL DEFAULT '',"
    ' "received_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)'
)
COLUMNS_REFUNDS = (
    ' "booking" INTEGER NOT NULL REFERENCES "bookings" ("id") ON DELETE CASCADE'
    " ON UPDATE CASCADE,"
    ' "idempotency_key" VARCHAR(120) NOT NULL UNIQUE,'
    " \"cause\" VARCHAR(20) NOT NULL DEFAULT '',"
    " \"payment_intent\" VARCHAR(255) NOT NULL DEFAULT '',"
    ' "amount" INTEGER NOT NULL DEFAULT 0,'
    " \"currency\" VARCHAR(3) NOT NULL DEFAULT 'cad',"
    ' "stripe_refund_id" VARCHAR(255) DEFAULT null,'
    " \"status\" VARCHAR(10) NOT NULL DEFAULT 'pending',"
    ' "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,'
    ' "refunded_at" TIMESTAMPTZ DEFAULT null)'
)
SQLITE = (
    'CREATE TABLE stripe_events ("id" INTEGER PRIMARY KEY NOT NULL,' + COLUMNS_EVENTS,
    'CREATE TABLE payment_refunds ("id" INTEGER PRIMARY KEY NOT NULL,' + COLUMNS_REFUNDS,
)
POSTGRES = (
    'CREATE TABLE stripe_events ("id" SERIAL PRIMARY KEY NOT NULL,' + COLUMNS_EVENTS,
    'CREATE TABLE payment_refunds ("id" SERIAL PRIMARY KEY NOT NULL,' + COLUMNS_REFUNDS,
)
COMMON = ("CREATE INDEX payment_refunds_booking ON payment_refunds (booking)",)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    # Defined here, not at module level: a table class remembers the first engine it ran on.
    class RawSQL(Table):
        pass

    async def apply() -> None:
        engine = engine_finder()
        postgres = engine is not None and engine.engine_type == "postgres"
        for statement in (POSTGRES if postgres else SQLITE) + COMMON:
            await RawSQL.raw(statement)

    manager.add_raw(apply)
    return manager
