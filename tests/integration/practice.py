"""The small practice most integration tests book with: Ana in Toronto, Mondays 09:00-12:00,
a free consultation and a paid one; and the links the service derives for its bookings."""

from __future__ import annotations

from dataclasses import dataclass

from booking.core.settings import get_settings
from booking.core.tokens import derive_token
from tests.factories import make_therapist, make_type

MONDAY = "2026-12-07"  # the tests' clock reads Wednesday 2026-12-02, 10:00 in Toronto
AT_9 = f"{MONDAY}T09:00:00-05:00"
AT_10 = f"{MONDAY}T10:00:00-05:00"
AT_11 = f"{MONDAY}T11:00:00-05:00"


@dataclass(frozen=True)
class Practice:
    type_id: int
    paid_type_id: int
    therapist_id: int


async def make_practice() -> Practice:
    free = await make_type("consult", name="First conversation", modes=["video", "phone"])
    paid = await make_type(
        "paid",
        name="Couples consultation",
        price_amount=15000,
        deposit_amount=5000,
        payment_hold_minutes=15,
        modes=["video"],
    )
    therapist = await make_therapist(
        "ana",
        name="Ana Lima",
        types=(free, paid),
        hours=((0, "09:00", "12:00"),),
        modes=["video", "phone"],
    )
    return Practice(free, paid, therapist)


def manage_token(manage_url: str) -> str:
    return manage_url.rsplit("/", 1)[1]


def intake_token(reference: str, position: int, generation: int = 0) -> str:
    """The partner link the service derives (and its emails carry)."""
    return derive_token(get_settings().secret_key, "intake", f"{reference}:{position}", generation)
