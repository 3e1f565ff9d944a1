"""The payments side of a process without the web application (a worker, the CLI): the
payment service and what runs on it, built from the settings as create_app builds them."""

from __future__ import annotations

from dataclasses import dataclass

from booking.bookings.booked_time import LiveBookings
from booking.bookings.manage import BookingManagement
from booking.core.settings import Settings
from booking.core.timezones import Clock
from booking.notifications.announcer import OutboxAnnouncer
from booking.notifications.feeds import FeedService
from booking.payments.gateway import PaymentGateway
from booking.payments.reconcile import Reconciler
from booking.payments.records import DepositRecords
from booking.payments.refunds import DepositWording, PaymentWorkRunner, Refunds
from booking.payments.service import PaymentService, make_gateway
from booking.scheduling.services import AvailabilityService


@dataclass(frozen=True, slots=True)
class PaymentParts:
    """What a worker or the CLI runs: None parts when the service takes no payments."""

    gateway: PaymentGateway | None
    service: PaymentService
    work: PaymentWorkRunner | None
    wording: DepositWording
    reconciler: Reconciler | None


def payment_parts(settings: Settings, clock: Clock) -> PaymentParts:
    gateway = make_gateway(settings)
    announcer = OutboxAnnouncer()
    refunds = Refunds()
    management = BookingManagement(
        settings,
        settings.keyring(),
        clock,
        AvailabilityService(settings.practice_timezone, LiveBookings(), clock),
        announcer=announcer,
        calendars=FeedService(settings, clock),
        payments=DepositRecords(),
        deposits=refunds,
    )
    service = PaymentService(
        settings, clock, gateway, management, announcer=announcer, late=refunds
    )
    return PaymentParts(
        gateway=gateway,
        service=service,
        work=PaymentWorkRunner(gateway, clock) if gateway is not None else None,
        wording=DepositWording(),
        reconciler=Reconciler(service, gateway, clock) if gateway is not None else None,
    )
