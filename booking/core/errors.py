"""One exception hierarchy for the service, mapped to the API's error shape by one handler."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class ServiceError(Exception):
    """A failure the client can act on; carries its HTTP status and machine code."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        fields: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []
        self.headers = headers or {}


class ValidationFailed(ServiceError):
    status_code = 422
    code = "validation_error"

    @classmethod
    def on(cls, field: str, message: str) -> ValidationFailed:
        """A validation error about one field, its message repeated as the summary."""
        return cls(message, [FieldError(field, message)])


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class SlotUnavailable(ServiceError):
    status_code = 409
    code = "slot_unavailable"


class TooLate(ServiceError):
    status_code = 409
    code = "too_late"


class TooEarly(ServiceError):
    """A change allowed only from a moment that has not come (marking a consultation held)."""

    status_code = 409
    code = "too_early"


class BadSignature(ServiceError):
    """A webhook request that does not carry a valid, recent signature: nothing is done."""

    status_code = 400
    code = "bad_signature"


class TryAgainLater(ServiceError):
    """The request cannot be done now but will be soon: a row it must change stayed locked too
    long, or a provider it must ask did not answer. Nothing was changed (a webhook's sender
    retries on a 5xx)."""

    status_code = 503
    code = "try_again_later"


class BookingLimitReached(ServiceError):
    """A couple or a connection already holds as many bookings as the practice allows."""

    status_code = 409
    code = "booking_limit"


class PayloadTooLarge(ServiceError):
    status_code = 413
    code = "payload_too_large"


class RateLimited(ServiceError):
    status_code = 429
    code = "rate_limited"


class AlreadyPaid(ServiceError):
    """The booking's deposit is paid: nothing more to charge."""

    status_code = 409
    code = "already_paid"


class NotBookableOnline(ServiceError):
    """A type with a deposit while the service takes no online payment (no Stripe keys)."""

    status_code = 409
    code = "not_bookable_online"


class PaymentsUnavailable(ServiceError):
    """The payment provider could not be reached: nothing was charged, the hold stays."""

    status_code = 503
    code = "payments_unavailable"


class NothingToRefund(ServiceError):
    """No part of the deposit is left to give back, or its refund is already on its way."""

    status_code = 409
    code = "nothing_to_refund"
