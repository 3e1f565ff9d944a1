"""Paying a booking's deposit: the page's SetupIntent, the charge, and the confirmation.

One booking, at most one successful charge: every step that may create something at Stripe
runs in a write transaction holding the booking's payment lock (`LockSpace.PAYMENT`), reads
the stored intent ids first and stores what it created before the lock is released; a
concurrent request waits, then finds the id and asks Stripe about that intent instead of
making another. Every write to Stripe carries a deterministic idempotency key
(booking.payments.keys) for the crash between Stripe's answer and the commit.

The booking is confirmed only from what the service itself reads from Stripe (`apply_intent`:
the pay request, the webhook and reconciliation all come through it), in the transaction that
writes the payment, with its invitations.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from booking.bookings import lifecycle
from booking.bookings.changes import ChangeMessages
from booking.bookings.create import reminder_lead
from booking.bookings.manage import BookingManagement, booking_by_manage_token
from booking.bookings.ports import Announcer
from booking.bookings.records import BookingRecord, load_booking
from booking.bookings.statuses import BookingStatus, PaymentStatus
from booking.bookings.tables import Booking
from booking.core.db import LockSpace, lock, write_transaction
from booking.core.errors import (
    AlreadyPaid,
    NotBookableOnline,
    NotFound,
    PaymentsUnavailable,
    TooLate,
    ValidationFailed,
)
from booking.core.settings import Settings
from booking.core.timezones import Clock, rfc3339
from booking.payments import keys
from booking.payments.gateway import (
    CardDeclined,
    GatewayUnavailable,
    IntentInfo,
    PaymentGateway,
    StripeGateway,
)
from booking.payments.records import PaymentRecord, may_advance, payment_of
from booking.payments.schemas import PaymentPageOut, PayOut
from booking.payments.tables import Payment
from booking.scheduling.records import (
    ConsultationTypeRecord,
    load_consultation_type,
    load_therapist,
)
from booking.scheduling.schemas import Money
from booking.scheduling.tables import ConsultationType

T = TypeVar("T")

UNREACHABLE = (
    "The payment service could not be reached, so nothing was charged. Your time is still "
    "held: please try again in a moment."
)
NOT_ONLINE = (
    "This consultation needs a deposit, and online payment is not available at the moment. "
    "Please contact the practice to book it."
)
DECLINED = "The card was declined. Nothing was charged: please try another card."
HOLD_ENDED = (
    "The time held for this booking has ended, so nothing was charged. Please choose a time again."
)


def make_gateway(settings: Settings) -> PaymentGateway | None:
    """The Stripe gateway the settings describe, or None when no keys are set."""
    if not settings.takes_payments or settings.stripe_secret_key is None:
        return None
    return StripeGateway(settings.stripe_secret_key, settings.stripe_api_base)


class LatePayments(Protocol):
    """What happens to money taken for a booking that can no longer be confirmed (its hold
    lapsed, it was cancelled, its time went to someone else): implemented by refunds."""

    async def late_payment(
        self, payment: PaymentRecord, booking: BookingRecord, intent: IntentInfo, now: datetime
    ) -> None:
        """Called in the transaction that recorded the payment as succeeded."""
        ...


@dataclass(frozen=True, slots=True)
class Recorded:
    """What `apply_intent` did with an intent Stripe reported."""

    payment: PaymentRecord
    # The booking was confirmed by this call (its invitations queued).
    confirmed: bool = False
    # The money was taken for a booking that could not be confirmed (LatePayments told).
    late: bool = False
    # The intent is not this payment's, or its amount is not the deposit: nothing written.
    mismatch: str | None = None


class PaymentService:
    """The deposits of bookings: their page, their charge, their confirmation.

    `gateway` is None when the service takes no online payments (no Stripe keys).
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        gateway: PaymentGateway | None,
        management: BookingManagement,
        *,
        announcer: Announcer,
        late: LatePayments | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.gateway = gateway
        self.management = management
        self.messages = ChangeMessages(announcer, reminder_lead(settings))
        self.late = late

    @property
    def available(self) -> bool:
        return self.gateway is not None

    def _gateway(self) -> PaymentGateway:
        if self.gateway is None:
            raise NotBookableOnline(NOT_ONLINE)
        return self.gateway

    async def refund_window_hours(self, type_slug: str) -> int:
        """How long before the start a cancellation still refunds the deposit."""
        row = (
            await ConsultationType.select(ConsultationType.refund_window_hours)
            .where(ConsultationType.slug == type_slug)
            .first()
        )
        return int(row["refund_window_hours"]) if row else 0

    # -- the page ---------------------------------------------------------------------------

    async def page(self, manage_token: str) -> PaymentPageOut:
        """The payment page's data; the booking's SetupIntent is made on the first call."""
        booking = await self._booking(manage_token)
        consultation_type = await _deposit_type(booking)
        now = self.clock()
        status = lifecycle.status_of(booking.state, now)
        payment = await payment_of(booking.id)
        if payment is not None and payment.paid:
            return self._page(booking, payment, consultation_type)
        if status is not BookingStatus.PENDING_PAYMENT:
            raise TooLate(HOLD_ENDED)
        if payment is None or payment.setup_intent_id is None:
            payment = await self._with_setup_intent(booking, consultation_type)
        return self._page(booking, payment, consultation_type)

    def _page(
        self,
        booking: BookingRecord,
        payment: PaymentRecord,
        consultation_type: ConsultationTypeRecord,
    ) -> PaymentPageOut:
        return PaymentPageOut(
            status=payment.status,
            amount=Money(payment.amount, payment.currency),
            expires_at=rfc3339(booking.hold_expires_at) if booking.hold_expires_at else None,
            publishable_key=self.settings.stripe_publishable_key or "",
            setup_client_secret=payment.setup_client_secret or "",
            test_mode=self.settings.stripe_emulated,
        )

    async def _with_setup_intent(
        self, booking: BookingRecord, consultation_type: ConsultationTypeRecord
    ) -> PaymentRecord:
        gateway = self._gateway()
        async with write_transaction():
            now = self.clock()
            await lock(LockSpace.PAYMENT, booking.id)
            payment = await payment_of(booking.id)
            if payment is None:
                payment = await _insert_payment(booking, consultation_type, now)
            if payment.setup_intent_id is not None:
                return payment  # a concurrent first call made it
            setup = await _reachable(
                gateway.create_setup_intent(
                    booking.reference, keys.setup_intent_key(booking.reference, payment.attempt)
                )
            )
            await Payment.update(
                {
                    Payment.setup_intent_id: setup.id,
                    Payment.setup_client_secret: setup.client_secret,
                    Payment.updated_at: now,
                }
            ).where(Payment._meta.primary_key == payment.id)
            found = await _written(booking.id)
        return found

    # -- the charge -------------------------------------------------------------------------

    async def pay(self, manage_token: str, setup_intent_id: str) -> PayOut:
        """Charge the card saved on the booking's SetupIntent, once, and confirm the booking
        from the PaymentIntent Stripe reports.

        Raises NotFound, ValidationFailed (not this booking's SetupIntent, card not saved),
        TooLate (the hold ended), AlreadyPaid, PaymentsUnavailable (Stripe unreachable:
        nothing charged, the hold kept), NotBookableOnline (no Stripe keys).
        """
        booking = await self._booking(manage_token)
        await _deposit_type(booking)
        gateway = self._gateway()
        answer = await self._charge(gateway, booking, setup_intent_id.strip())
        view = await self.management.view(manage_token)
        return PayOut(
            status=answer.status,
            booking=view,
            client_secret=answer.client_secret,
            message=answer.message,
            setup_client_secret=answer.setup_client_secret,
        )

    async def _charge(
        self, gateway: PaymentGateway, booking: BookingRecord, setup_intent_id: str
    ) -> _Charged:
        async with write_transaction():
            now = self.clock()
            await lock(LockSpace.PAYMENT, booking.id)
            payment = await payment_of(booking.id)
            if payment is None or payment.setup_intent_id is None:
                raise ValidationFailed.on(
                    "setup_intent", "Open the payment page first: it prepares the card form."
                )
            current = await _reload(booking.id)
            if payment.paid:
                raise AlreadyPaid("This booking's deposit is already paid.")
            if payment.payment_intent_id is not None:
                # A charge was made already (a second click, a retry, a 3-D Secure step):
                # look at that one, never make another for this attempt.
                intent = await _reachable(
                    gateway.retrieve_payment_intent(payment.payment_intent_id)
                )
                if intent.status not in ("requires_payment_method", "canceled"):
                    return await self._answer(payment, current, intent, now)
                # That charge failed (a declined card, a failed 3-D Secure step): the couple
                # may try another card on a fresh SetupIntent while the hold lasts.
                await self.apply_intent(payment, current, intent, now)
                return await self._next_attempt(
                    gateway, current, intent.failure_message or DECLINED, now
                )
            if setup_intent_id != payment.setup_intent_id:
                raise ValidationFailed.on(
                    "setup_intent", "This card form belongs to another booking or has expired."
                )
            if lifecycle.status_of(current.state, now) is not BookingStatus.PENDING_PAYMENT:
                raise TooLate(HOLD_ENDED)
            setup = await _reachable(gateway.retrieve_setup_intent(setup_intent_id))
            if setup is None or setup.reference != current.reference:
                raise ValidationFailed.on(
                    "setup_intent", "This card form belongs to another booking or has expired."
                )
            if setup.status != "succeeded" or setup.payment_method is None:
                raise ValidationFailed.on(
                    "setup_intent", "The card has not been confirmed yet: please enter it again."
                )
            try:
                intent = await _reachable(
                    gateway.create_payment_intent(
                        amount=payment.amount,
                        currency=payment.currency,
                        payment_method=setup.payment_method,
                        reference=current.reference,
                        idempotency_key=keys.payment_intent_key(current.reference, payment.attempt),
                    )
                )
            except CardDeclined as declined:
                if declined.payment_intent_id is not None:
                    await _store_intent(payment, declined.payment_intent_id, now)
                await _mark_failed(payment, declined.message, now)
                return await self._next_attempt(gateway, current, declined.message, now)
            await _store_intent(payment, intent.id, now)
            stored = await _written(booking.id)
            return await self._answer(stored, current, intent, now)

    async def _answer(
        self, payment: PaymentRecord, booking: BookingRecord, intent: IntentInfo, now: datetime
    ) -> _Charged:
        if intent.status == "requires_action":
            return _Charged("requires_action", client_secret=intent.client_secret)
        if intent.status in ("processing", "requires_confirmation", "requires_capture"):
            return _Charged("processing", message="The payment is being processed.")
        recorded = await self.apply_intent(payment, booking, intent, now)
        if recorded.confirmed or (intent.succeeded and not recorded.late):
            return _Charged("succeeded")
        if recorded.late:
            return _Charged(
                "failed",
                message="The time held for this booking ended before the payment arrived; "
                "the deposit will be refunded in full.",
            )
        return _Charged("failed", message=intent.failure_message or DECLINED)

    async def _next_attempt(
        self, gateway: PaymentGateway, booking: BookingRecord, message: str, now: datetime
    ) -> _Charged:
        """After a failed charge: a fresh SetupIntent for another card (the attempt raised),
        while the hold lasts. In the caller's locked transaction."""
        payment = await _written(booking.id)
        if lifecycle.status_of(booking.state, now) is not BookingStatus.PENDING_PAYMENT:
            return _Charged("failed", message=message)
        attempt = payment.attempt + 1
        setup = await _reachable(
            gateway.create_setup_intent(
                booking.reference, keys.setup_intent_key(booking.reference, attempt)
            )
        )
        await Payment.update(
            {
                Payment.attempt: attempt,
                Payment.setup_intent_id: setup.id,
                Payment.setup_client_secret: setup.client_secret,
                Payment.payment_intent_id: None,
                Payment.updated_at: now,
            }
        ).where(Payment._meta.primary_key == payment.id)
        return _Charged("failed", message=message, setup_client_secret=setup.client_secret)

    # -- what Stripe reports ----------------------------------------------------------------

    async def record_intent(self, intent: IntentInfo) -> Recorded | None:
        """Apply a PaymentIntent read from Stripe (the webhook, reconciliation) in a
        transaction of its own, under the booking's payment lock; None when no booking has
        it (by its id, or by `metadata.reference` for an intent whose id was never stored)."""
        async with write_transaction():
            now = self.clock()
            target = await _booking_of_intent(intent)
            if target is None:
                return None
            await lock(LockSpace.PAYMENT, target)
            payment = await payment_of(target)
            booking = await load_booking(target)
            if payment is None or booking is None:
                return None
            return await self.apply_intent(payment, booking, intent, now)

    async def apply_intent(
        self, payment: PaymentRecord, booking: BookingRecord, intent: IntentInfo, now: datetime
    ) -> Recorded:
        """Write what `intent` (as read from Stripe) says about `payment`, forward only, and
        confirm the booking when it is paid; in the caller's write transaction, holding
        `LockSpace.PAYMENT` for the booking.

        Money taken for a booking that can no longer be confirmed is handed to `late`.
        """
        if intent.reference != booking.reference or (
            payment.payment_intent_id is not None and payment.payment_intent_id != intent.id
        ):
            return Recorded(payment, mismatch="the intent is not this payment's")
        if intent.succeeded and (
            intent.amount != payment.amount or intent.currency.lower() != payment.currency
        ):
            return Recorded(payment, mismatch="the intent's amount is not the deposit")
        if payment.payment_intent_id is None:
            await _store_intent(payment, intent.id, now)
        new = _status_of(intent)
        if new is None or not may_advance(payment.status, new):
            return Recorded(await _fresh(payment))
        changes: dict[object, object] = {Payment.status: new, Payment.updated_at: now}
        if new is PaymentStatus.SUCCEEDED:
            changes[Payment.paid_at] = now
            changes[Payment.failure_message] = ""
        elif new is PaymentStatus.FAILED:
            changes[Payment.failure_message] = (intent.failure_message or DECLINED)[:500]
        await Payment.update(changes).where(  # type: ignore[arg-type]
            (Payment._meta.primary_key == payment.id) & (Payment.status == payment.status)
        )
        fresh = await _fresh(payment)
        if new is not PaymentStatus.SUCCEEDED:
            return Recorded(fresh)
        if await self._confirm(booking, now):
            return Recorded(fresh, confirmed=True)
        if self.late is not None:
            await self.late.late_payment(fresh, booking, intent, now)
        return Recorded(fresh, late=True)

    async def _confirm(self, booking: BookingRecord, now: datetime) -> bool:
        """Confirm the paid hold with its invitations; False when it can no longer be."""
        current = await _reload(booking.id)
        try:
            change = lifecycle.confirm(current.state, now)
        except TooLate:
            return False
        confirmed = await (
            Booking.update(
                {Booking.status: change.status, Booking.updated_at: now},
            )
            .where(
                (Booking._meta.primary_key == booking.id)
                & (Booking.status == BookingStatus.PENDING_PAYMENT)
            )
            .returning(Booking._meta.primary_key)
        )
        if not confirmed:
            return False
        therapist = await load_therapist(current.therapist_id)
        await self.messages.send(
            booking.id, current.reference, change, therapist, current.starts_at, now
        )
        return True

    async def _booking(self, token: str) -> BookingRecord:
        return await booking_by_manage_token(token, self.clock())


@dataclass(frozen=True, slots=True)
class _Charged:
    status: str
    client_secret: str | None = None
    message: str | None = None
    setup_client_secret: str | None = None


def _status_of(intent: IntentInfo) -> PaymentStatus | None:
    """The payment status a PaymentIntent's status means (None: still under way)."""
    if intent.status == "succeeded":
        return PaymentStatus.SUCCEEDED
    if intent.status == "canceled":
        return PaymentStatus.CANCELLED
    if intent.status == "requires_payment_method":
        return PaymentStatus.FAILED
    return None


async def _reachable(call: Awaitable[T]) -> T:
    """`call`'s answer; Stripe unreachable becomes the couple's 503 (nothing was charged)."""
    try:
        return await call
    except GatewayUnavailable:
        raise PaymentsUnavailable(UNREACHABLE, headers={"Retry-After": "5"}) from None


async def _deposit_type(booking: BookingRecord) -> ConsultationTypeRecord:
    consultation_type = await load_consultation_type(booking.consultation_type_id)
    if consultation_type is None or consultation_type.deposit_amount is None:
        raise NotFound("This booking has no deposit to pay.")
    return consultation_type


async def _reload(booking_id: int) -> BookingRecord:
    booking = await load_booking(booking_id)
    if booking is None:
        raise NotFound("This booking no longer exists.")
    return booking


async def _insert_payment(
    booking: BookingRecord, consultation_type: ConsultationTypeRecord, now: datetime
) -> PaymentRecord:
    await Payment.insert(
        Payment(
            booking=booking.id,
            amount=consultation_type.deposit_amount,
            currency=consultation_type.currency.lower(),
            status=PaymentStatus.PENDING,
            created_at=now,
            updated_at=now,
        )
    )
    return await _written(booking.id)


async def _written(booking_id: int) -> PaymentRecord:
    """The booking's payment, written (or locked) earlier in the caller's transaction."""
    found = await payment_of(booking_id)
    if found is None:
        raise RuntimeError("the booking's payment record vanished inside its transaction")
    return found


async def _store_intent(payment: PaymentRecord, payment_intent_id: str, now: datetime) -> None:
    await Payment.update(
        {Payment.payment_intent_id: payment_intent_id, Payment.updated_at: now}
    ).where(Payment._meta.primary_key == payment.id)


async def _mark_failed(payment: PaymentRecord, message: str, now: datetime) -> None:
    if may_advance(payment.status, PaymentStatus.FAILED):
        await Payment.update(
            {
                Payment.status: PaymentStatus.FAILED,
                Payment.failure_message: message[:500],
                Payment.updated_at: now,
            }
        ).where(Payment._meta.primary_key == payment.id)


async def _fresh(payment: PaymentRecord) -> PaymentRecord:
    found = await payment_of(payment.booking_id)
    return found if found is not None else payment


async def _booking_of_intent(intent: IntentInfo) -> int | None:
    """The booking an intent is for: by its stored id, else by its reference."""
    row = (
        await Payment.select(Payment.booking).where(Payment.payment_intent_id == intent.id).first()
    )
    if row is not None:
        return int(row["booking"])
    if not intent.reference:
        return None
    found = (
        await Booking.select(Booking._meta.primary_key)
        .where(Booking.reference == intent.reference)
        .first()
    )
    return int(found["id"]) if found is not None else None
