"""The ASGI application for servers: `uvicorn booking.asgi:app`.

Importing this module reads nothing: `app` is built from the settings when a server first
asks for it (uvicorn looks it up right after the import), so tools and tests may import the
module without an environment.
"""

from __future__ import annotations

from typing import Any


def build() -> Any:
    """The service for the process's settings, its (redacting) logging set up first."""
    from booking.core.db import make_engine
    from booking.core.logs import configure_logging
    from booking.core.settings import get_settings
    from booking.web.app import create_app

    settings = get_settings()
    # Each server process sets up its own logging: `booking serve --workers 2` and a bare
    # `uvicorn booking.asgi:app` start processes that inherit nothing from the command.
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings, make_engine(settings))


def __getattr__(name: str) -> Any:
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    app = build()
    globals()["app"] = app
    return app
