"""A therapist's calendar feed, by its secret URL."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from booking.core.errors import NotFound
from booking.notifications.feeds import FeedService


class FeedController(Controller):
    path = "/feeds"
    include_in_schema = False

    @get("/{name:str}", media_type="text/calendar")
    async def feed(
        self, name: FromPath[str], feeds: NamedDependency[FeedService]
    ) -> Response[bytes]:
        if not name.endswith(".ics"):
            raise NotFound("No calendar feed here.")
        return Response(
            await feeds.feed(name.removesuffix(".ics")),
            media_type="text/calendar; charset=utf-8",
        )
