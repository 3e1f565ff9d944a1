"""The email the booker gets when an admin refunds the deposit: it says what comes back and
names the consultation; it cannot be written without the amount, nor to a therapist."""

from __future__ import annotations

import pytest

from booking.notifications.messages import render_email
from tests.unit.notifications.test_messages import context

OUTCOME = (
    "$50.00 CAD is being refunded to the card you paid with; banks usually show it within "
    "5 to 10 business days."
)


def test_the_booker_is_told_what_comes_back_and_for_which_consultation() -> None:
    rendered = render_email(context("booker", "deposit_refunded", deposit_outcome=OUTCOME))

    assert rendered.subject.startswith("Your deposit has been refunded")
    assert "The practice has refunded the deposit you paid" in rendered.text
    assert OUTCOME in " ".join(rendered.text.split())
    assert "Dr Maya Chen" in rendered.text
    assert "The practice has refunded the deposit you paid" in rendered.html
    assert "<" not in rendered.text


def test_it_is_never_written_without_the_amount_nor_to_a_therapist() -> None:
    with pytest.raises(ValueError, match="deposit_refunded"):
        context("booker", "deposit_refunded")
    with pytest.raises(ValueError, match="a therapist is not sent a deposit_refunded email"):
        context("therapist", "deposit_refunded", deposit_outcome=OUTCOME)
