"""The Piccolo app: every table of the service, migrations in the top-level folder."""

from __future__ import annotations

from pathlib import Path

from piccolo.conf.apps import AppConfig

from booking.audit.tables import AuditEvent
from booking.bookings.tables import Booking, IdempotencyKey, Partner
from booking.intake.tables import AnswerVersion
from booking.notifications.tables import OutboxMessage
from booking.scheduling.tables import (
    BusyInterval,
    ConsultationType,
    DateOverride,
    Therapist,
    TherapistOffering,
    TimeOff,
    WeeklyHoursRule,
)
from booking.web.ratelimit import RateLimitHit

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
]

APP_CONFIG = AppConfig(
    app_name="booking",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations"),
    table_classes=TABLES,
)
