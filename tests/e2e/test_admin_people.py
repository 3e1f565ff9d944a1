"""An admin's people, policies and reports in a real browser: sign in with a second factor
(enrolled from the secret the page shows), add a staff account and see its one-time
password once, change a consultation type's refund window and read it on the public page,
open a profile and the reports (charts drawn, no Content-Security-Policy violation).
axe-core checks every page visited for serious and critical violations."""

from __future__ import annotations

import re

from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.staff import add_admin, sign_in_and_enrol
from tests.e2e.test_booking_journey import assert_accessible

EMAIL = "people-admin@staff.example.org"
PASSWORD = "quiet harbour morning tide"
NEW_ADMIN = "second-admin@staff.example.org"


def test_an_admin_adds_an_account_changes_a_refund_window_and_reads_the_reports(
    page: Page, server: Server
) -> None:
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", on_console)
    add_admin(server, EMAIL, PASSWORD, "People Admin")
    sign_in_and_enrol(page, server, EMAIL, PASSWORD, "/staff/people")

    # Staff accounts: add an admin; the one-time password is shown once.
    expect(page.get_by_role("heading", name="Staff accounts", level=1)).to_be_visible()
    assert_accessible(page, "staff accounts")
    page.get_by_role("textbox", name="Email", exact=True).fill(NEW_ADMIN)
    page.get_by_role("textbox", name="Name", exact=True).fill("Second Admin")
    page.get_by_label("Admin: every therapist").check()
    page.get_by_role("button", name="Add the account").click()
    expect(page.get_by_role("heading", name="Account added")).to_be_visible()
    one_time = page.locator(".one-time-password code").inner_text()
    assert len(one_time.replace("-", "")) >= 20
    assert_accessible(page, "one-time password")
    page.get_by_role("link", name="Back to the staff accounts").click()
    expect(page.get_by_role("rowheader", name=re.compile(re.escape(NEW_ADMIN)))).to_be_visible()
    assert one_time not in page.content()

    # A consultation type's refund window, then the public directory.
    page.get_by_role("link", name="Consultation types").click()
    expect(page.get_by_role("heading", name="Consultation types", level=1)).to_be_visible()
    assert_accessible(page, "consultation types")
    page.get_by_role("link", name=re.compile(r"^Couples consultation\W+edit$")).click()
    assert_accessible(page, "consultation type form")
    page.get_by_label("Refund window (hours before the start)").fill("96")
    page.get_by_role("button", name="Save the consultation type").click()
    expect(page.get_by_text("The consultation type is saved.")).to_be_visible()
    page.goto(server.base_url + "/")
    card = page.get_by_role("listitem").filter(has_text="Couples consultation")
    expect(card).to_contain_text("cancel at least 96 hours before and the deposit is refunded")

    # A therapist's profile form, and a problem named on it.
    page.goto(server.base_url + "/staff/profiles")
    assert_accessible(page, "profiles")
    page.get_by_role("link", name=re.compile(r"^Amara Okafor\W+edit the profile$")).click()
    page.get_by_label("Time zone").fill("Mars/Olympus")
    page.get_by_role("button", name="Save the profile").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose a time zone such as America/Toronto.")
    expect(page.get_by_label("Time zone")).to_have_value("Mars/Olympus")
    assert_accessible(page, "profile form with a problem")

    # The reports: this month, four charts beside their tables.
    page.get_by_role("link", name="Reports").first.click()
    expect(page.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    expect(page.locator("img.chart")).to_have_count(4)
    expect(page.get_by_role("table")).to_have_count(4)
    widths = page.locator("img.chart").evaluate_all("images => images.map(i => i.naturalWidth)")
    assert all(width > 0 for width in widths), widths  # each SVG was drawn
    assert_accessible(page, "reports")
    assert not refused, refused
