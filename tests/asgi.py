"""Requests straight into the app on the test's own event loop, through httpx."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import httpx
from litestar import Litestar

# httpx's own (private) signature for an ASGI app.
_ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


def asgi_transport(app: Litestar) -> httpx.ASGITransport:
    """An httpx transport that hands each request to `app` (its lifespan is the caller's)."""
    # Litestar types its __call__ with its own narrower scope and event types than httpx's
    # generic mappings, which mypy cannot see as compatible; the app is a plain ASGI app.
    return httpx.ASGITransport(app=cast(_ASGIApp, app))
