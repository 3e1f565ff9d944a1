"""Shapes of the payment API (msgspec structs, published in the OpenAPI document)."""

from __future__ import annotations

from msgspec import Struct

from booking.bookings.schemas import BookingView
from booking.bookings.statuses import PaymentStatus
from booking.scheduling.schemas import Money


class PaymentPageOut(Struct, frozen=True):
    """What the payment page needs: the amount, the hold's end, and the card's SetupIntent."""

    status: PaymentStatus
    amount: Money
    expires_at: str | None
    publishable_key: str
    setup_client_secret: str
    # True against the emulator: the page says plainly that no money moves.
    test_mode: bool = False


class PayIn(Struct, forbid_unknown_fields=True):
    setup_intent: str


class PayOut(Struct, frozen=True):
    """`succeeded`, `requires_action` (run confirmCardPayment with `client_secret`, then ask
    again), `processing` (ask again shortly) or `failed` (`message` says why; a card may be
    tried again on `setup_client_secret` while the hold lasts)."""

    status: str
    booking: BookingView
    client_secret: str | None = None
    message: str | None = None
    setup_client_secret: str | None = None
