"""Piccolo's configuration (PICCOLO_CONF=booking.piccolo_conf).

`DB` is resolved on first use, from the settings, so importing this module reads no
environment and creates no file; `booking.piccolo_app.use_engine` replaces it when the service
or a test opens a database of its own.
"""

from __future__ import annotations

from typing import Any

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(apps=["booking.piccolo_app"])


def __getattr__(name: str) -> Any:
    if name != "DB":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from booking.core.db import make_engine
    from booking.core.settings import get_settings

    engine = make_engine(get_settings())
    globals()["DB"] = engine
    return engine
