"""Who sent a request, as the handlers pass it on to the services (audit, limits)."""

from __future__ import annotations

from typing import Any

from litestar import Request


def client_address(request: Request[Any, Any, Any]) -> str:
    """The client's address (as a trusted proxy forwarded it, see `booking serve`), or ""."""
    return request.client.host if request.client else ""
