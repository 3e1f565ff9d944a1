"""Scheduling tables: therapists, consultation types and the hours that make availability."""

from __future__ import annotations

from piccolo.columns import (
    Array,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Time,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Therapist(Table, tablename="therapists"):
    slug = Varchar(length=80, unique=True)
    name = Varchar(length=200)
    credentials = Varchar(length=200, default="")
    bio = Text(default="")
    timezone = Varchar(length=64)
    languages = Array(base_column=Varchar(length=40))
    modes = Array(base_column=Varchar(length=20))
    accepting_new_couples = Boolean(default=True)
    active = Boolean(default=True)
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    email = Varchar(length=254, default="")
    # Off: no invitation emails for this therapist; they follow their calendar feed instead.
    email_invitations = Boolean(default=True)
    video_url = Varchar(length=500, default="")
    # sha256 of the calendar feed's token (derived, like every link token).
    feed_token_hash = Varchar(length=64, null=True, default=None)
    feed_generation = Integer(default=0)


class ConsultationType(Table, tablename="consultation_types"):
    slug = Varchar(length=80, unique=True)
    name = Varchar(length=200)
    description = Text(default="")
    duration_minutes = Integer(default=50)
    slot_interval_minutes = Integer(default=30)
    buffer_after_minutes = Integer(default=10)
    min_notice_minutes = Integer(default=24 * 60)
    horizon_days = Integer(default=60)
    daily_cap = Integer(null=True, default=None)
    currency = Varchar(length=3, default="cad")
    price_amount = Integer(null=True, default=None)
    deposit_amount = Integer(null=True, default=None)
    refund_window_hours = Integer(default=48)
    reschedule_cutoff_hours = Integer(default=24)
    payment_hold_minutes = Integer(default=15)
    modes = Array(base_column=Varchar(length=20))
    active = Boolean(default=True)
    position = Integer(default=0)


class TherapistOffering(Table, tablename="therapist_offerings"):
    """Which therapist offers which consultation type."""

    therapist = ForeignKey(references=Therapist, null=False)
    consultation_type = ForeignKey(references=ConsultationType, null=False)


class WeeklyHoursRule(Table, tablename="weekly_hours"):
    """A working range on a weekday (0 = Monday) in the therapist's local time."""

    therapist = ForeignKey(references=Therapist, null=False)
    weekday = Integer()
    start_time = Time()
    end_time = Time()
    valid_from = Date(null=True, default=None)
    valid_until = Date(null=True, default=None)


class DateOverride(Table, tablename="date_overrides"):
    """Replaces the weekly hours on one local date: closed, or one of that day's ranges."""

    therapist = ForeignKey(references=Therapist, null=False)
    day = Date()
    closed = Boolean(default=False)
    start_time = Time(null=True, default=None)
    end_time = Time(null=True, default=None)


class TimeOff(Table, tablename="time_off"):
    therapist = ForeignKey(references=Therapist, null=False)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    # No longer written: emptied by migration m0012, which moved any reason it held into
    # note_encrypted (the therapist's own note is private, like an answer).
    reason = Varchar(length=200, default="")
    # The therapist's private note, encrypted with the intake keyring (booking.scheduling.hours).
    note_encrypted = Text(null=True, default=None)


class BusyInterval(Table, tablename="busy_intervals"):
    """Busy time from elsewhere (an imported calendar, a manual block)."""

    therapist = ForeignKey(references=Therapist, null=False)
    starts_at = Timestamptz()
    ends_at = Timestamptz()
    source = Varchar(length=40, default="manual")
    external_id = Varchar(length=200, default="")


class CalendarVersion(Table, tablename="calendar_versions"):
    """A therapist's calendar version (row 0: the directory), raised by the database's own
    triggers in the transaction of every change that can move a slot (migration m0018)."""

    therapist_id = Integer(primary_key=True)
    version = BigInt(default=0)
