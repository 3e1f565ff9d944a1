"""The module `booking worker` hands to Dramatiq's CLI: it sets up the broker at import."""

from booking.logs import configure_logging
from booking.notifications.worker import worker_broker
from booking.settings import get_settings

settings = get_settings()
configure_logging(settings.log_level)
broker = worker_broker(settings)
