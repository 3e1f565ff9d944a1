"""The staff side's tables: accounts with their secrets, recovery codes, server-side sessions
and the sign-in failures counted per client address (migration m0011); the review's internal
notes (migration m0015)."""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.bookings.tables import Booking
from booking.scheduling.tables import Therapist


class StaffAccount(Table, tablename="staff_accounts"):
    """A member of staff. Never deleted while audit rows name it: disabled instead."""

    id = Serial(primary_key=True)

    # Kept lower-cased (and unique so), so an address matches whatever case it is typed in.
    email = Varchar(length=254, unique=True)
    name = Varchar(length=120)
    role = Varchar(length=20)  # booking.staff.principal.Role
    # The therapist a therapist's account belongs to: at most one account each.
    therapist = ForeignKey(
        Therapist, null=True, unique=True, on_delete=OnDelete.restrict, on_update=OnUpdate.cascade
    )
    password_hash = Varchar(length=255)
    # A one-time password (reset, demo, admin pages) must be replaced at the first sign-in.
    must_change_password = Boolean(default=False)
    # The TOTP secret sealed with the intake keyring (context "staff:<id>:totp"); "" for none.
    totp_secret = Text(default="")
    # A secret shown for enrolment and not yet confirmed by a code (sealed the same way).
    totp_pending = Text(default="")
    # The last 30-second TOTP step accepted: no code of that step or before is taken again.
    totp_last_step = BigInt(default=0)
    disabled = Boolean(default=False)
    # Failures since the last success or lock; `locks` counts locks since the last success,
    # so each further lock lasts longer.
    failed_attempts = Integer(default=0)
    locks = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class StaffRecoveryCode(Table, tablename="staff_recovery_codes"):
    """One single-use recovery code, as a SHA-256 of the code (80 random bits) only."""

    id = Serial(primary_key=True)

    account = ForeignKey(StaffAccount, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade)
    code_hash = Varchar(length=64, unique=True)
    used_at = Timestamptz(null=True, default=None)


class StaffSession(Table, tablename="staff_sessions"):
    """A server-side session: the cookie carries a random id, this row only its SHA-256."""

    id = Serial(primary_key=True)

    id_hash = Varchar(length=64, unique=True)
    account = ForeignKey(StaffAccount, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade)
    stage = Varchar(length=20)  # booking.staff.sessions.Stage
    created_at = Timestamptz()
    last_seen_at = Timestamptz()


class StaffSignInFailure(Table, tablename="staff_sign_in_failures"):
    """A failed sign-in from one client address (its keyed digest), for per-address throttling."""

    id = Serial(primary_key=True)

    address = Varchar(length=64, index=True)
    at = Timestamptz(index=True)


class ReviewNote(Table, tablename="review_notes"):
    """An internal note on a booking: for the practice only, never shown to the couple."""

    booking = ForeignKey(references=Booking, null=False, on_delete=OnDelete.cascade)
    # The audit label of who wrote it ("staff:7").
    author = Varchar(length=120, default="")
    # The text, encrypted with the intake keyring (booking.staff.notes.note_context).
    body = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
