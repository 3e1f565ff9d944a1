"""The ASGI application for servers: `uvicorn booking.asgi:app`."""

from booking.core.logs import configure_logging
from booking.core.settings import get_settings
from booking.web.app import create_app

# Each server process sets up its own (redacting) logging: `booking serve --workers 2` and a
# bare `uvicorn booking.asgi:app` start processes that inherit nothing from the command.
configure_logging(get_settings().log_level)
app = create_app()
