"""Logging setup: plain or JSON lines on stderr, each with the request it belongs to, and one
filter that keeps secrets out of every line."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# LOG_FORMAT's choices: `plain` for a person at a terminal, `json` for a log collector.
FORMS = ("plain", "json")

# The id of the request being handled (booking.web.observability sets it per request), named
# on every line logged while it is handled. An outbox row keeps the id of the request that
# wrote it, and the worker sets it again while it delivers that row (booking.worker).
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
# What a request id may be: 1 to 64 of these characters (and nothing `redact` takes out).
REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# A link token (manage, intake, feed) is 43 URL-safe base64 characters (booking.core.tokens): any
# run of 43 or more of them is taken out wherever it is (a path, a query, an exception's
# message), so a new route family is covered without a list of prefixes to keep up to date.
TOKEN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43,}(?![A-Za-z0-9_-])")
# `?token=…`-style query values, whatever their shape.
SECRET_QUERY = re.compile(
    r"(?i)([?&;][\w.-]*(?:token|key|secret|password|passwd|signature|sig|auth|code|session)"
    r"[\w.-]*=)[^&;#\s\"']+"
)
# Credential headers, as a line (`Authorization: Bearer …`) or a repr (`(b'cookie', b'…')`).
SECRET_HEADER = re.compile(
    r"(?i)\b((?:proxy-)?authorization|(?:set-)?cookie|x-api-key)(['\"]?\s*[:=,]\s*b?['\"]?)"
    r"[^'\"\r\n]+"
)
# A person's address never belongs in a log line, whoever wrote it there.
EMAIL = re.compile(r"[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")

# Libraries that, below these levels, print SQL parameters, message bodies or SMTP
# conversations (names, emails, answers): they never log below them, even at LOG_LEVEL=DEBUG.
LIBRARY_FLOORS = {
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "piccolo": logging.WARNING,
    "dramatiq": logging.INFO,
    "pika": logging.WARNING,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiosmtplib": logging.WARNING,
    "mail.log": logging.WARNING,
    "multipart": logging.WARNING,
}
# Uvicorn's loggers, which may carry handlers of their own.
SERVER_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    """`text` with every link token, credential query value, credential header and email
    address replaced by a placeholder."""
    text = TOKEN.sub("[token]", text)
    text = SECRET_QUERY.sub(r"\1[redacted]", text)
    text = SECRET_HEADER.sub(r"\1\2[redacted]", text)
    return EMAIL.sub("[email]", text)


def acceptable_request_id(value: object) -> bool:
    """Whether `value` may serve as a request id: short, plain, and not token-shaped (a
    token-shaped id would be taken out of every line, and must never be stored)."""
    return (
        isinstance(value, str)
        and bool(REQUEST_ID_SHAPE.fullmatch(value))
        and redact(value) == value
    )


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside one (a sweep, the CLI)."""
    value = REQUEST_ID.get()
    return value if acceptable_request_id(value) else None


class RedactTokens(logging.Filter):
    """Rewrites a record (its message, arguments and traceback) so no secret reaches a handler.

    The message is formatted here, once, so arguments of any type (a URL object, a dict) are
    redacted as they would be printed.
    """

    _tracebacks = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep only its format string, redacted
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._tracebacks.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class NameRequest(logging.Filter):
    """Gives a record the id of the request it was logged in (`request_id`, None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, process, and the
    request id and traceback when there are any. Runs after RedactTokens, so the message and
    the traceback it writes are the redacted ones."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str, form: str = "plain") -> None:
    """Lines on stderr at `level` in `form` (`plain` or `json`), libraries held at their
    floors, every handler redacting and naming the request.

    A handler someone else installed first (Dramatiq's worker processes do) is kept and given
    the same filters (and, in JSON, the same formatter); safe to call again.
    """
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(stderr)
    root.setLevel(level)
    for name, floor in LIBRARY_FLOORS.items():
        logging.getLogger(name).setLevel(max(root.level, floor))
    for logger in (root, *map(logging.getLogger, SERVER_LOGGERS)):
        for handler in logger.handlers:
            if not any(isinstance(f, RedactTokens) for f in handler.filters):
                handler.addFilter(RedactTokens())
            if not any(isinstance(f, NameRequest) for f in handler.filters):
                handler.addFilter(NameRequest())
            if form == "json" and not isinstance(handler.formatter, JsonLines):
                handler.setFormatter(JsonLines())
