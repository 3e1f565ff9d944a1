"""A member of staff signs in in a real browser: password, enrolment of an authenticator
(codes computed from the secret the page shows), recovery codes, a recovery code used once,
sign-out, and the old cookie refused; each page checked with axe-core."""

from __future__ import annotations

import re

import pyotp
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.staff import add_admin
from tests.e2e.test_booking_journey import assert_accessible

EMAIL = "coordinator@staff.example.org"
PASSWORD = "harbour lights at dusk"


def sign_in_with_password(page: Page, server: Server) -> None:
    page.goto(f"{server.base_url}/staff/login?next=/staff/account")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_coordinator_enrols_uses_a_recovery_code_and_signs_out(
    page: Page, server: Server, browser: Browser
) -> None:
    add_admin(server, EMAIL, PASSWORD, "Practice Coordinator")
    page.goto(f"{server.base_url}/staff/login")
    assert_accessible(page, "sign-in")

    sign_in_with_password(page, server)
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    assert_accessible(page, "enrolment")
    secret = page.locator(".secret code").inner_text().replace(" ", "")
    assert f"secret={secret}" in page.locator(".uri code").inner_text()
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    assert_accessible(page, "account")

    page.get_by_role("button", name=re.compile("^Sign out")).first.click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    sign_in_with_password(page, server)
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert_accessible(page, "second factor")
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("9 unused recovery codes left")).to_be_visible()
    cookies = page.context.cookies()
    page.get_by_role("button", name=re.compile("^Sign out")).first.click()

    sign_in_with_password(page, server)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("That code is not right, or was used already.")).to_be_visible()

    copied = browser.new_context()
    copied.add_cookies(cookies)  # type: ignore[arg-type]
    other = copied.new_page()
    other.goto(f"{server.base_url}/staff/account")
    expect(other.get_by_role("heading", name="Sign in")).to_be_visible()
    copied.close()
