"""The pages' scripts run under the Content-Security-Policy, and the browser reports no
violation of it."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, ConsoleMessage, expect

from tests.e2e.conftest import Server


def test_the_times_page_detects_the_visitors_zone_under_the_policy(
    browser: Browser, server: Server
) -> None:
    # A visitor in Vancouver: times.js must read the browser's zone and reload with it.
    context = browser.new_context(timezone_id="America/Vancouver", locale="en-CA")
    context.set_default_timeout(15_000)
    page = context.new_page()
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", on_console)
    try:
        response = page.goto(server.base_url + "/times")
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"]
        expect(page).to_have_url(re.compile(r"[?&]tz=America%2FVancouver"))
        expect(page.locator("#tz")).to_have_value("America/Vancouver")
    finally:
        context.close()
    assert not refused, refused
