"""Every version of a partner's private answers, as they submitted them."""

from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from booking.bookings.tables import Booking, Partner


class AnswerVersion(Table, tablename="intake_answer_versions"):
    """One submission of a partner's answers; numbered 1, 2, … per partner, never changed.

    Unique on (partner, number) through an index of migration m0007. The booker's answers at
    booking are version 1 of partner 1.
    """

    booking = ForeignKey(references=Booking, null=False, on_delete=OnDelete.cascade)
    partner = ForeignKey(references=Partner, null=False, on_delete=OnDelete.cascade)
    position = Integer()
    number = Integer()
    # Encrypted like Partner.answers, bound to the booking, the partner and this number.
    answers = Text()
    questionnaire_version = Varchar(length=40, default="")
    # Whether these answers raised the safety flag (kept even after staff resolve it).
    safety_flag = Boolean(default=False)
    submitted_at = Timestamptz(default=TimestamptzNow())
