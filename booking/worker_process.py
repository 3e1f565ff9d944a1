"""What `booking worker` hands to Dramatiq's CLI (`booking.worker_process:setup`).

Importing the module reads nothing; Dramatiq calls `setup` in each worker process, which reads
the settings and installs the broker with the outbox middleware.
"""

from booking.core.logs import configure_logging
from booking.core.settings import get_settings
from booking.worker import worker_broker


def setup() -> None:
    """Configure logging and set the process's broker (Dramatiq then takes it as the global)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    worker_broker(settings)
