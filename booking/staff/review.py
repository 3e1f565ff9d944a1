"""A booking as the admin reviews it: the consultation page's data (both partners' answers
side by side, the couple part, notes, the history) and what the admin may do from it: resolve
the safety flag, send a partner a fresh intake link, replace the manage link, give the booking
to another therapist, cancel it for the practice, refund its deposit (booking.staff.deposit).

Every read decrypts only here and writes one audit row per record read (`intake.viewed`).
The changes call the service that owns them (booking.bookings.links, .reassign, .manage,
booking.intake.services.resolve_safety_flag), each audited in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from booking.bookings.links import LinkService, RevokedLink
from booking.bookings.manage import BookingManagement
from booking.bookings.reassign import Reassigned, Reassignment
from booking.bookings.schemas import Cancelled
from booking.core.audit import AuditAction
from booking.core.crypto import Keyring
from booking.core.db import write_transaction
from booking.core.timezones import Clock
from booking.intake.services import resolve_safety_flag
from booking.scheduling.schemas import Money
from booking.scheduling.services import Availability
from booking.staff.access import Origin, record, require_admin
from booking.staff.audit_log import AuditEntry, booking_trail
from booking.staff.casefile import Case, load_case
from booking.staff.deposit import DepositDesk, DepositPanel
from booking.staff.principal import StaffPrincipal


@dataclass(frozen=True, slots=True)
class ReviewPage:
    """What the consultation page shows an admin."""

    case: Case
    # Who viewed or changed the booking, oldest first (this view included).
    history: list[AuditEntry]
    # The deposit and its refunds; None for a booking without one.
    deposit: DepositPanel | None = None

    @property
    def status_changes(self) -> list[AuditEntry]:
        return [e for e in self.history if e.action == AuditAction.REVIEW_STATUS_CHANGED]


class BookingReview:
    def __init__(
        self,
        keyring: Keyring,
        clock: Clock,
        links: LinkService,
        reassignment: Reassignment,
        management: BookingManagement,
        deposits: DepositDesk | None = None,
    ) -> None:
        self.keyring = keyring
        self.clock = clock
        self.links = links
        self.reassignment = reassignment
        self.management = management
        self.deposits = deposits or DepositDesk(clock)

    async def open(
        self,
        principal: StaffPrincipal,
        reference: str,
        origin: Origin = Origin(),  # noqa: B008 (frozen: one shared default is safe)
    ) -> ReviewPage:
        """The booking's file, decrypted; one `intake.viewed` row per record read (one for
        the booking itself when nothing is left to read: an erased or purged file)."""
        require_admin(principal)
        case = await load_case(reference, self.keyring, self.clock, with_versions=False)
        async with write_transaction():
            now = self.clock()
            for name in case.records(with_cancel_reason=False) or ["booking"]:
                await record(
                    AuditAction.INTAKE_VIEWED,
                    principal,
                    origin,
                    booking=case.reference,
                    record=name,
                    at=now,
                )
        deposit = None if case.erased_at else await self.deposits.panel(principal, reference)
        return ReviewPage(case, await booking_trail(case.reference), deposit)

    async def deposit(self, principal: StaffPrincipal, reference: str) -> DepositPanel | None:
        """The booking's deposit and its refunds (a plain read: no intake data)."""
        return await self.deposits.panel(principal, reference)

    async def refund_deposit(
        self,
        principal: StaffPrincipal,
        reference: str,
        expected: int,
        origin: Origin = Origin(),  # noqa: B008
    ) -> Money:
        """Refund what is left of the deposit, `expected` being the amount the admin confirmed;
        NothingToRefund when nothing is left (it is refunded, or its refund is on its way)."""
        return await self.deposits.refund(principal, reference, expected, origin)

    async def resolve_safety_flag(
        self,
        principal: StaffPrincipal,
        reference: str,
        origin: Origin = Origin(),  # noqa: B008
    ) -> bool:
        """Mark the booking's safety follow-up done; False when no flag was raised."""
        require_admin(principal)
        return await resolve_safety_flag(
            reference.strip().upper(), principal.actor, self.clock(), origin.client
        )

    async def fresh_intake_link(
        self,
        principal: StaffPrincipal,
        reference: str,
        partner: int,
        origin: Origin = Origin(),  # noqa: B008
    ) -> RevokedLink:
        """Send partner `partner` a new intake link; the old one answers 404 from now on."""
        require_admin(principal)
        return await self.links.revoke(reference, partner, principal.actor, origin.client)

    async def revoke_manage_link(
        self,
        principal: StaffPrincipal,
        reference: str,
        origin: Origin = Origin(),  # noqa: B008
    ) -> RevokedLink:
        """Replace the booking's manage link (both partners are sent the new one)."""
        require_admin(principal)
        return await self.links.revoke(reference, None, principal.actor, origin.client)

    async def cancel(
        self,
        principal: StaffPrincipal,
        reference: str,
        origin: Origin = Origin(),  # noqa: B008
    ) -> Cancelled:
        """Cancel the booking for the practice: the couple and the therapist are told, the
        time is free again (before an erasure of a consultation still to come)."""
        require_admin(principal)
        return await self.management.cancel_for_practice(reference, principal.actor, origin.client)

    async def reassignment_options(
        self,
        principal: StaffPrincipal,
        reference: str,
        therapist: str,
        first: date | None = None,
        tz: ZoneInfo | None = None,
    ) -> Availability:
        """The times `therapist` could take the booking, when its own time is not free."""
        require_admin(principal)
        return await self.reassignment.options(reference, therapist, first, tz)

    async def reassign(
        self,
        principal: StaffPrincipal,
        reference: str,
        therapist: str,
        start: datetime | None = None,
        origin: Origin = Origin(),  # noqa: B008
    ) -> Reassigned:
        """Give the booking to `therapist`, at its own time or at `start`."""
        require_admin(principal)
        return await self.reassignment.reassign(
            reference, therapist, actor=principal.actor, start=start, client=origin.client
        )
