"""The ASGI application for servers: `uvicorn booking.asgi:app`."""

from booking.app import create_app
from booking.logs import configure_logging
from booking.settings import get_settings

# Each server process sets up its own (redacting) logging: `booking serve --workers 2` and a
# bare `uvicorn booking.asgi:app` start processes that inherit nothing from the command.
configure_logging(get_settings().log_level)
app = create_app()
