"""Logs never keep a private link's token, a credential or an address, at any level."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from booking.core.logs import (
    LIBRARY_FLOORS,
    SERVER_LOGGERS,
    RedactTokens,
    configure_logging,
    redact,
)
from booking.core.tokens import derive_token

TOKEN = derive_token("s" * 40, "manage", "ABCD-EFGH", 0)


@pytest.mark.parametrize(
    "path",
    [
        f"/manage/{TOKEN}",
        f"/manage/{TOKEN}/cancel",
        f"/intake/{TOKEN}",
        f"/api/v1/bookings/{TOKEN}/reschedule",
        f"/api/v1/intake/{TOKEN}",
    ],
)
def test_tokens_are_replaced_in_paths(path: str) -> None:
    line = f'127.0.0.1:5000 - "GET {path} HTTP/1.1" 200'
    assert TOKEN not in redact(line)
    assert "[token]" in redact(line)


def test_other_paths_are_untouched() -> None:
    line = '"GET /api/v1/intake/questionnaire HTTP/1.1" 200 "GET /api/v1/availability?x=1"'
    assert redact(line) == line


def test_the_filter_rewrites_uvicorn_style_arguments(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access")
    logger.addFilter(RedactTokens())
    with caplog.at_level(logging.INFO, logger="test.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", f"/manage/{TOKEN}", "1.1", 200)
    assert TOKEN not in caplog.text
    assert "/manage/[token]" in caplog.text


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f'"GET /feeds/{TOKEN}.ics HTTP/1.1" 200', TOKEN),
        (f'"GET /a/route/family/added/later/{TOKEN}/x HTTP/1.1" 200', TOKEN),
        (f"lookup failed for {TOKEN}", TOKEN),
        ('"GET /payments/return?session_token=abc123 HTTP/1.1" 302', "abc123"),
        ('"GET /x?token=short&tz=UTC HTTP/1.1" 200', "short"),
        ("Authorization: Bearer sk_live_0123456789", "sk_live_0123456789"),
        ("headers=[(b'cookie', b'session=s3cr3t; notes=a')]", "s3cr3t"),
        ("{'authorization': 'Basic dXNlcjpwYXNz'}", "dXNlcjpwYXNz"),
        ("message 4 (invitation to robin.park@example.org) not sent", "robin.park@example.org"),
    ],
)
def test_secrets_are_taken_out_wherever_they_are(line: str, secret: str) -> None:
    assert secret not in redact(line)


def test_query_values_that_are_not_secrets_stay() -> None:
    line = '"GET /api/v1/availability?consultation_type=consult&tz=America/Toronto HTTP/1.1"'
    assert redact(line) == line


def test_the_filter_redacts_non_string_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.errors")
    logger.addFilter(RedactTokens())
    with caplog.at_level(logging.INFO, logger="test.errors"):
        try:
            raise KeyError(TOKEN)
        except KeyError:
            logger.exception("failed on %s", {"path": f"/manage/{TOKEN}"})
    assert caplog.records
    assert TOKEN not in caplog.text
    assert "KeyError: '[token]'" in caplog.text


@contextmanager
def root_handlers(*handlers: logging.Handler) -> Iterator[logging.Logger]:
    """The root logger with only `handlers`, as a fresh process starts; all restored after."""
    root = logging.getLogger()
    names = [*LIBRARY_FLOORS, *SERVER_LOGGERS]
    levels = {name: logging.getLogger(name).level for name in names}
    saved, level = root.handlers[:], root.level
    root.handlers = list(handlers)
    try:
        yield root
    finally:
        root.handlers, root.level = saved, level
        for name in names:
            logging.getLogger(name).setLevel(levels[name])


def test_debug_keeps_database_and_mail_libraries_at_their_floor() -> None:
    with root_handlers() as root:
        configure_logging("DEBUG")
        configure_logging("DEBUG")  # the command group and `serve` both configure

        assert root.level == logging.DEBUG
        assert len(root.handlers) == 1
        for name in ("aiosqlite", "asyncpg", "piccolo", "aiosmtplib", "mail.log", "httpx"):
            assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
        assert not logging.getLogger("dramatiq.worker").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("booking.core.errors").isEnabledFor(logging.DEBUG)
        assert all(any(isinstance(f, RedactTokens) for f in h.filters) for h in root.handlers)


def test_a_handler_installed_before_gets_the_filter_too() -> None:
    stream = io.StringIO()
    with root_handlers(logging.StreamHandler(stream)) as root:  # as Dramatiq's workers have
        configure_logging("INFO")
        logging.getLogger("uvicorn.access").info('"GET /manage/%s HTTP/1.1" 200', TOKEN)

        assert len(root.handlers) == 1  # that one, and no second
    assert "/manage/[token]" in stream.getvalue()
    assert TOKEN not in stream.getvalue()
