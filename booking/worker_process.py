"""The module `booking worker` hands to Dramatiq's CLI: it sets up the broker at import."""

from booking.core.logs import configure_logging
from booking.core.settings import get_settings
from booking.worker import worker_broker

settings = get_settings()
configure_logging(settings.log_level)
broker = worker_broker(settings)
