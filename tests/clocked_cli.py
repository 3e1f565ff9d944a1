"""`python -m tests.clocked_cli ARGS`: the real `booking ARGS` command in a process of its own,
at the test's time.

A test whose app runs on a fixed clock (tests.integration.conftest.FixedClock) and that hands
part of the work to a command (`booking links revoke`, `booking payments reconcile`) must run
that command at the same instant, or the two disagree about what is due, held or expired
depending on the hour the suite happens to run. The instant comes in TEST_CLOCK_NOW (ISO
8601); the service's own clock (`booking.core.timezones.utc_now`) is pinned to it before any
other module of the service is imported, so every `utc_now` the command reads is that instant.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

CLOCK_ENV = "TEST_CLOCK_NOW"


def main() -> None:
    from booking.core import timezones

    pinned = datetime.fromisoformat(os.environ[CLOCK_ENV])
    timezones.utc_now = lambda: pinned  # the service's default Clock, at the test's time

    from booking.cli import main as booking

    sys.argv = ["booking", *sys.argv[1:]]
    booking()


if __name__ == "__main__":
    main()
