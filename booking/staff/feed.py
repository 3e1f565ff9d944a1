"""The workspace's calendar page: the therapist's private feed URL, a new one when the old
may have leaked, and whether invitation emails come too. Changes are audited (never the URL:
it is a secret, like a link token)."""

from __future__ import annotations

from dataclasses import dataclass

from booking.core.acting import Acting
from booking.core.audit import AuditAction
from booking.core.db import write_transaction
from booking.core.timezones import Clock, utc_now
from booking.notifications.feeds import FeedService
from booking.scheduling.records import TherapistRecord
from booking.staff.principal import StaffPrincipal
from booking.staff.reach import therapist_in_reach


@dataclass(frozen=True, slots=True)
class FeedFacts:
    therapist: TherapistRecord
    url: str
    invitations: bool


class WorkspaceFeed:
    def __init__(self, feeds: FeedService, clock: Clock = utc_now) -> None:
        self.feeds = feeds
        self.clock = clock

    async def facts(self, principal: StaffPrincipal, therapist: str | None) -> FeedFacts:
        found = await therapist_in_reach(principal, therapist)
        return await self._facts(found)

    async def rotate(
        self, principal: StaffPrincipal, therapist: str | None, acting: Acting
    ) -> FeedFacts:
        """A new feed URL; the old one answers 404 from now on."""
        found = await therapist_in_reach(principal, therapist)
        async with write_transaction():
            await self.feeds.rotate(found.slug)
            await acting.record(
                AuditAction.FEED_ROTATED, at=self.clock(), record=f"therapist:{found.slug} feed"
            )
        return await self._facts(found)

    async def set_invitations(
        self, principal: StaffPrincipal, therapist: str | None, on: bool, acting: Acting
    ) -> FeedFacts:
        found = await therapist_in_reach(principal, therapist)
        async with write_transaction():
            await self.feeds.set_invitations(found.slug, on)
            await acting.record(
                AuditAction.INVITATIONS_CHANGED,
                at=self.clock(),
                record=f"therapist:{found.slug} invitation emails {'on' if on else 'off'}",
            )
        return await self._facts(found)

    async def _facts(self, therapist: TherapistRecord) -> FeedFacts:
        url = await self.feeds.url_for(therapist.slug)
        return FeedFacts(therapist, url, await self.feeds.invitations(therapist.slug))
