"""Staff in the browser suite: an admin account made with the real CLI (`booking staff add
--password-stdin`), and its first sign-in with the second factor enrolled from the secret the
page shows, as a coordinator does with an authenticator app."""

from __future__ import annotations

import os
import subprocess
import sys

import pyotp
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server


def add_admin(server: Server, email: str, password: str, name: str) -> None:
    """An admin account on the suite's server, created as an operator would."""
    env = {**os.environ, "BOOKING_DATA_DIR": str(server.data_dir), "BOOKING_ENV": "development"}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [
            *(sys.executable, "-m", "booking", "staff", "add", "--email", email),
            *("--role", "admin", "--name", name, "--password-stdin"),
        ],
        input=password + "\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def sign_in_and_enrol(
    page: Page, server: Server, email: str, password: str, next_path: str
) -> None:
    """Sign in for the first time, enrol the second factor and pass the recovery codes; the
    browser then stands on `next_path`."""
    page.goto(f"{server.base_url}/staff/login?next={next_path}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    secret = page.locator(".secret code").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    page.get_by_role("link", name="I have kept them: continue").click()
