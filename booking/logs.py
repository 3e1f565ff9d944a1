"""Logging setup: plain lines on stderr, with private link tokens taken out of access logs."""

from __future__ import annotations

import logging
import re
import sys

# Manage and intake links carry credentials in their path; an access log must not keep them.
TOKEN_PATH = re.compile(
    r"(/(?:manage|intake|api/v1/bookings|api/v1/intake)/)(?!questionnaire\b)[A-Za-z0-9_-]{16,}"
)


def redact(text: str) -> str:
    """`text` with every link token replaced by a placeholder."""
    return TOKEN_PATH.sub(r"\1[token]", text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message and arguments so no link token reaches a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def configure_logging(level: str) -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    logging.getLogger().setLevel(level)
    # Piccolo announces the SQLite version at every engine start; only its warnings matter.
    logging.getLogger("piccolo").setLevel(logging.WARNING)
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(RedactTokens())
