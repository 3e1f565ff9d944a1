"""The audit log: who viewed, exported or changed intake data, and when, and from where."""

from __future__ import annotations

from piccolo.columns import Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_events"):
    at = Timestamptz(default=TimestamptzNow())
    # "partner:2 of B-XXXX", "booker of B-XXXX", later "staff:<id>"; never a private answer.
    actor = Varchar(length=120)
    action = Varchar(length=60)
    booking_reference = Varchar(length=20, default="", index=True)
    record = Varchar(length=120, default="")
    client_address = Varchar(length=64, default="")
