"""Bookings: the consultations couples have booked or are holding, and their partners."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.scheduling.tables import ConsultationType, Therapist


class Booking(Table, tablename="bookings"):
    reference = Varchar(length=20, unique=True)
    therapist = ForeignKey(references=Therapist, null=False, on_delete=OnDelete.restrict)
    consultation_type = ForeignKey(
        references=ConsultationType, null=False, on_delete=OnDelete.restrict
    )
    # A BookingStatus (booking.bookings.statuses).
    status = Varchar(length=20)
    mode = Varchar(length=20, default="")
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    # The end of the time this booking keeps the therapist busy: its end plus its buffer.
    blocked_until = Timestamptz()
    hold_expires_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    # address_digest of the address it was booked from, for the per-address booking limits.
    client_digest = Varchar(length=64, default="", index=True)
    # sha256 of the manage token; the token itself is derived, never stored. Unique through
    # an index of its own (SQLite cannot add a UNIQUE column to an existing table).
    manage_token_hash = Varchar(length=64, null=True, default=None)
    manage_generation = Integer(default=0)
    # The calendar SEQUENCE: 0 at booking, +1 at every reschedule and at cancellation.
    sequence = Integer(default=0)
    questionnaire_version = Varchar(length=40, default="")
    # The couple part of the intake, encrypted (booking.core.crypto token).
    couple_answers = Text(null=True, default=None)
    # Derived on the server from the partners' private safety answers; never shown to them.
    safety_flag = Boolean(default=False)
    # A raised flag stays raised until a staff member resolves it (who, by their audit name).
    safety_resolved_at = Timestamptz(null=True, default=None)
    safety_resolved_by = Varchar(length=120, default="")
    viewer_timezone = Varchar(length=64, default="")
    cancelled_at = Timestamptz(null=True, default=None)
    # No longer written: emptied by migration m0007, which moved any reason it held into
    # cancel_reason_encrypted (SQLite cannot change a column's type in place).
    cancel_reason = Varchar(length=500, default="")
    # The couple's reason for cancelling, encrypted like answers; null when none was given.
    cancel_reason_encrypted = Text(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())
    # Set once the retention purge has deleted the intake answers (booking.intake.retention).
    intake_purged_at = Timestamptz(null=True, default=None)
    # Where the admin's review of the booking stands (booking.staff.queue.ReviewStatus), and
    # who changed it last, when (every change is also an audit row: the history).
    review_status = Varchar(length=20, default="new")
    review_changed_at = Timestamptz(null=True, default=None)
    review_changed_by = Varchar(length=120, default="")
    # Set when the couple's data was erased on request (booking.staff.erase): what remains is
    # an anonymous stub (reference, dates, status, amounts).
    erased_at = Timestamptz(null=True, default=None)


class Partner(Table, tablename="booking_partners"):
    """One of the two partners of a booking; position 1 is the one who booked."""

    booking = ForeignKey(references=Booking, null=False, on_delete=OnDelete.cascade)
    position = Integer()
    name = Varchar(length=120)
    email = Varchar(length=254)
    phone = Varchar(length=40, default="")
    pronouns = Varchar(length=40, default="")
    intake_token_hash = Varchar(length=64, null=True, default=None, unique=True)
    intake_generation = Integer(default=0)
    # The partner's private answers, encrypted; null until they answer.
    answers = Text(null=True, default=None)
    questionnaire_version = Varchar(length=40, default="")
    intake_completed_at = Timestamptz(null=True, default=None)
    safety_flag = Boolean(default=False)
    # {"purpose": "purpose-2026-1", ...}: the version of each text agreed to, and when.
    consents = JSON(default={})
    consented_at = Timestamptz(null=True, default=None)


class IdempotencyKey(Table, tablename="idempotency_keys"):
    """A client's Idempotency-Key for a booking request, kept for 24 hours."""

    key = Varchar(length=200, unique=True)
    request_hash = Varchar(length=64)
    booking = ForeignKey(references=Booking, null=True, on_delete=OnDelete.cascade)
    # The first answer's status and body, without its manage link (re-derived on replay).
    response_status = Integer(default=0)
    response_body = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
