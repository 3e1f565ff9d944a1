"""Access logs never keep a private link's token."""

from __future__ import annotations

import logging

import pytest

from booking.logs import RedactTokens, redact
from booking.tokens import derive_token

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
