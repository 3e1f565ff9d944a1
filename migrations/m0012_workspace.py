"""The therapist's private note on time off, encrypted (hand-written).

`time_off` gains `note_encrypted`, sealed with the intake keyring and bound to its row
(booking.scheduling.hours.note_context). Any clear `reason` a row held moves into it, in the
same transaction, and is emptied: the keyring is read only when there is one to move.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-02T12:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Encrypted private notes on time off"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    # Defined here, not at module level: a table class remembers the first engine it ran on.
    class RawSQL(Table):
        pass

    async def apply() -> None:
        # The context is the stored format of the ciphertext: the application's own helper.
        from booking.core.settings import get_settings
        from booking.scheduling.hours import note_context

        engine = engine_finder()
        if engine is None:
            raise RuntimeError("no database engine for the migration")
        async with engine.transaction():
            await RawSQL.raw("ALTER TABLE time_off ADD COLUMN note_encrypted TEXT NULL")
            rows = await RawSQL.raw("SELECT id, reason FROM time_off WHERE reason <> ''")
            keyring = get_settings().keyring() if rows else None
            for row in rows:
                if keyring is None:
                    raise RuntimeError("no keyring to seal the notes with")
                sealed = keyring.encrypt(row["reason"].strip().encode(), note_context(row["id"]))
                await RawSQL.raw(
                    "UPDATE time_off SET note_encrypted = {}, reason = '' WHERE id = {}",
                    sealed,
                    row["id"],
                )

    manager.add_raw(apply)
    return manager
