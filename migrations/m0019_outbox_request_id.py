"""The request that wrote each outbox row (hand-written): `outbox_messages.request_id`, the id
named on that request's log lines, handed to the worker with the row so the delivery's lines
name it too. Null for rows written outside a request (a sweep, the command line) and for every
row written before this migration. An id is no personal data; a token-shaped one is never
stored (booking.core.logs.acceptable_request_id)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T13:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "The request id of the request that wrote each outbox row"

STATEMENTS = ("ALTER TABLE outbox_messages ADD COLUMN request_id VARCHAR(64) DEFAULT null",)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    # Defined here, not at module level: a table class remembers the first engine it ran on.
    class RawSQL(Table):
        pass

    async def apply() -> None:
        for statement in STATEMENTS:
            await RawSQL.raw(statement)

    manager.add_raw(apply)
    return manager
