"""The shared rate-limit counter, and what the booking limits look bookings up by.

rate_limit_hits: one row per client address digest and one-minute window, counted by an
atomic upsert on its unique window_key ("<digest>:<window_start>": one column, since SQLite
cannot add a multi-column constraint to a table after creating it).
bookings.client_digest: an HMAC of the address a booking was made from (never the address).
booking_partners (lower(email)): a partner's live bookings, whatever the case of the address.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Integer, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-02T10:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Rate-limit counters; client digest on bookings; partner email lookup"


def params(**overrides):
    base = {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    return {**base, **overrides}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    manager.add_table(
        class_name="RateLimitHit", tablename="rate_limit_hits", schema=None, columns=None
    )
    for name, column_class, extra in (
        ("window_key", Varchar, {"length": 80, "default": "", "unique": True}),
        ("window_start", BigInt, {"default": 0, "index": True}),
        ("hits", Integer, {"default": 1}),
    ):
        manager.add_column(
            table_class_name="RateLimitHit",
            tablename="rate_limit_hits",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params(**extra),
            schema=None,
        )

    manager.add_column(
        table_class_name="Booking",
        tablename="bookings",
        column_name="client_digest",
        db_column_name="client_digest",
        column_class_name="Varchar",
        column_class=Varchar,
        params=params(length=64, default="", index=True),
        schema=None,
    )

    # Defined here, not at module level: a table class remembers the first engine it ran on.
    class RawSQL(Table):
        pass

    async def partner_email_index() -> None:
        await RawSQL.raw(
            "CREATE INDEX booking_partners_email_lower ON booking_partners (lower(email))"
        )

    manager.add_raw(partner_email_index)
    return manager
