"""The Piccolo app: every table of the service, migrations in the top-level folder, and the
binding of all of them to one engine for this process."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from functools import cache
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import AppConfig
from piccolo.engine.base import Engine

from booking.bookings.tables import Booking, IdempotencyKey, Partner
from booking.core.audit import AuditEvent
from booking.core.db import APP_NAME, LeanSQLiteEngine, bind, prepare_sqlite
from booking.core.ratelimit import RateLimitHit
from booking.intake.tables import AnswerVersion
from booking.notifications.tables import OutboxMessage
from booking.payments.money_tables import PaymentRefund, StripeEvent
from booking.payments.tables import Payment
from booking.scheduling.tables import (
    BusyInterval,
    CalendarVersion,
    ConsultationType,
    DateOverride,
    Therapist,
    TherapistOffering,
    TimeOff,
    WeeklyHoursRule,
)
from booking.staff.tables import (
    ReviewNote,
    StaffAccount,
    StaffRecoveryCode,
    StaffSession,
    StaffSignInFailure,
)

TABLES = [
    Therapist,
    ConsultationType,
    TherapistOffering,
    WeeklyHoursRule,
    DateOverride,
    TimeOff,
    BusyInterval,
    Booking,
    Partner,
    AnswerVersion,
    IdempotencyKey,
    AuditEvent,
    OutboxMessage,
    RateLimitHit,
    StaffAccount,
    StaffRecoveryCode,
    StaffSession,
    StaffSignInFailure,
    ReviewNote,
    Payment,
    StripeEvent,
    PaymentRefund,
    CalendarVersion,
]

APP_CONFIG = AppConfig(
    app_name="booking",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations"),
    table_classes=TABLES,
)


def use_engine(engine: Engine[Any]) -> None:
    """Point Piccolo (tables, migrations, its CLI) at `engine` for this process."""
    from booking import piccolo_conf

    bind(engine)
    piccolo_conf.DB = engine
    for table in (*TABLES, Migration):
        table._meta.db = engine


async def migrate(engine: Engine[Any]) -> None:
    """Apply every migration not yet applied to `engine`."""
    use_engine(engine)
    prepare_sqlite(engine)
    quiet = io.StringIO()
    with redirect_stdout(quiet):
        result = await run_forwards(app_name=APP_NAME)
    if isinstance(engine, LeanSQLiteEngine):
        # The last connection to close checkpoints the write-ahead log into the file.
        await engine.close_idle()
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{quiet.getvalue()}")


async def pending_migrations(engine: Engine[Any]) -> int:
    """How many migrations the database has not applied (raises when it is unreachable)."""
    use_engine(engine)
    known = migration_ids()
    if not await Migration.table_exists().run():
        return len(known)
    ran = await (
        Migration.select(Migration.name)
        .where(Migration.app_name == APP_NAME)
        .output(as_list=True)
        .run()
    )
    return len(known - set(ran))


@cache
def migration_ids() -> frozenset[str]:
    manager = BaseMigrationManager()
    modules = manager.get_migration_modules(APP_CONFIG.resolved_migrations_folder_path)
    return frozenset(manager.get_migration_ids(modules))
