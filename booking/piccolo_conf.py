"""Piccolo's configuration (PICCOLO_CONF=booking.piccolo_conf): the engine comes from settings.

`booking.core.db.use_engine` replaces DB when the service or a test opens another database.
"""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry

from booking.core.db import make_engine
from booking.core.settings import get_settings

DB = make_engine(get_settings())

APP_REGISTRY = AppRegistry(apps=["booking.piccolo_app"])
