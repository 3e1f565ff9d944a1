"""A therapist's private calendar feed, and the booking's own "add to calendar" file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from booking.bookings.statuses import BookingStatus
from booking.bookings.tables import Booking
from booking.core.errors import NotFound
from booking.core.settings import Settings
from booking.core.timezones import Clock, utc_now
from booking.core.tokens import derive_token, looks_like_token, token_hash
from booking.notifications.calendar import build_feed, build_invitation
from booking.notifications.delivery import event_for, load_facts
from booking.scheduling.tables import Therapist

# Consultations of the last week stay in the feed, so a therapist can still look them up.
FEED_PAST = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class FeedKey:
    """A therapist's feed link as stored: its generation and its token's hash (None: unused)."""

    generation: int
    token_hash: str | None


class FeedService:
    def __init__(self, settings: Settings, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock

    def _url(self, slug: str, generation: int) -> tuple[str, str]:
        token = derive_token(self.settings.secret_key, "feed", slug, generation)
        return token, f"{self.settings.public_base_url}/feeds/{token}.ics"

    async def url_for(self, slug: str) -> str:
        """The therapist's current feed URL (its token's hash is stored on first use)."""
        key = await _feed_key(slug)
        token, url = self._url(slug, key.generation)
        if key.token_hash != token_hash(token):
            await Therapist.update({Therapist.feed_token_hash: token_hash(token)}).where(
                Therapist.slug == slug
            )
        return url

    async def rotate(self, slug: str) -> str:
        """A new feed URL for the therapist; the old one answers 404 from now on."""
        generation = (await _feed_key(slug)).generation + 1
        token, url = self._url(slug, generation)
        await Therapist.update(
            {Therapist.feed_generation: generation, Therapist.feed_token_hash: token_hash(token)}
        ).where(Therapist.slug == slug)
        return url

    async def invitations(self, slug: str) -> bool:
        """Whether the therapist also gets invitation emails (else the feed only)."""
        row = (
            await Therapist.select(Therapist.email_invitations)
            .where(Therapist.slug == slug)
            .first()
        )
        if row is None:
            raise NotFound(f"No therapist '{slug}'.")
        return bool(row["email_invitations"])

    async def set_invitations(self, slug: str, on: bool) -> None:
        """Invitation emails for the therapist on, or off in favour of their feed; every
        change announced from now on follows it (TherapistRecord.wants_invitations)."""
        await _feed_key(slug)
        await Therapist.update({Therapist.email_invitations: on}).where(Therapist.slug == slug)

    async def booking_file(self, booking_id: int) -> bytes:
        """The booking's one event as it stands (booking.bookings.ports.CalendarFiles)."""
        return await booking_calendar_file(booking_id, self.settings, self.clock)

    async def feed(self, token: str) -> bytes:
        """Upcoming confirmed consultations: times, type, mode, the couple's first names."""
        gone = NotFound("No calendar feed here.")
        if not looks_like_token(token):
            raise gone
        therapist = (
            await Therapist.select().where(Therapist.feed_token_hash == token_hash(token)).first()
        )
        if therapist is None:
            raise gone
        now = self.clock()
        ids = await (
            Booking.select(Booking._meta.primary_key)
            .where(
                (Booking.therapist == therapist["id"])
                & (Booking.status == BookingStatus.CONFIRMED)
                & (Booking.starts_at >= now - FEED_PAST)
            )
            .order_by(Booking.starts_at)
            .output(as_list=True)
        )
        events = []
        for booking_id in ids:
            facts = await load_facts(booking_id)
            if facts is not None:
                events.append(event_for(facts, self.settings, now, for_feed=True))
        return build_feed(f"{therapist['name']}: consultations", events)


async def booking_calendar_file(booking_id: int, settings: Settings, clock: Clock) -> bytes:
    """The booking's one event as it stands (METHOD:PUBLISH; STATUS:CANCELLED once cancelled),
    with the same UID and SEQUENCE as its emails."""
    facts = await load_facts(booking_id)
    if facts is None:
        raise NotFound("This booking no longer exists.")
    return build_invitation(event_for(facts, settings, clock()), "PUBLISH")


async def _feed_key(slug: str) -> FeedKey:
    """The feed link of therapist `slug` (active or not), or 404."""
    row = (
        await Therapist.select(Therapist.feed_generation, Therapist.feed_token_hash)
        .where(Therapist.slug == slug)
        .first()
    )
    if row is None:
        raise NotFound(f"No therapist '{slug}'.")
    return FeedKey(row["feed_generation"], row["feed_token_hash"])
