"""The ASGI application for servers: `uvicorn booking.asgi:app`."""

from booking.app import create_app

app = create_app()
