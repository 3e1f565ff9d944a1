"""A couple's whole journey in a real browser: find a time, book, the partner's private part,
cancel; every page checked with axe-core for serious and critical violations."""

from __future__ import annotations

import re
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from booking.core.tokens import derive_token
from tests.e2e.conftest import Server

BLOCKING_IMPACTS = ("serious", "critical")


def assert_accessible(page: Page, what: str) -> None:
    violations: list[dict[str, Any]] = Axe().run(page).response["violations"]
    blocking = [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]
    report = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n"
        + "\n".join(
            f"    {node['target']}: {node.get('failureSummary', '')}" for node in v["nodes"]
        )
        for v in blocking
    )
    assert not blocking, f"axe found serious or critical problems on the {what} page:\n{report}"


def agree_to_everything(page: Page) -> None:
    for consent in ("purpose", "privacy", "policy", "email"):
        page.check(f"#f-consents-{consent}")


def test_a_couple_books_answers_privately_and_cancels(page: Page, server: Server) -> None:
    # The directory, then the free call's times.
    page.goto(server.base_url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Book a first consultation")
    assert_accessible(page, "directory")
    page.get_by_role("listitem").filter(has_text="Free 15-minute phone call").get_by_role(
        "link", name="See times for this consultation"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a time")
    times_url = page.url
    assert_accessible(page, "times")

    # Pick the first open time.
    slot = page.locator("a.slot").first
    slot_href = slot.get_attribute("href")
    assert slot_href
    slot.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book your consultation")
    assert_accessible(page, "booking form")

    # Both partners; the shared-inbox warning comes and goes as the emails are typed.
    page.fill("#f-partners-0-name", "Robin Park")
    page.fill("#f-partners-0-email", "robin@example.org")
    page.fill("#f-partners-0-phone", "416-555-0134")
    page.fill("#f-partners-1-name", "Sam Park")
    warning = page.locator("#shared-inbox-warning")
    page.fill("#f-partners-1-email", "Robin@example.org")
    expect(warning).to_have_text(re.compile("shared inbox is not private"))
    page.fill("#f-partners-1-email", "sam@example.org")
    expect(warning).to_have_text("")
    page.fill("#f-partners-1-pronouns", "they/them")

    # The couple's part, then the booker's own private part, then the consents.
    page.check("input[name='intake.couple.time_together'][value='4_to_10_years']")
    page.check("input[name='intake.couple.living_together'][value='yes']")
    page.fill("#f-intake-couple-hoped_for_help", "We keep having the same argument about chores.")
    page.check("input[name='intake.booker.trust_in_care'][value='6']")
    page.check("input[name='intake.booker.communication_satisfaction'][value='4']")
    page.check("input[name='intake.booker.habits_to_strengthen'][value='listening_fully']")
    page.check("input[name='intake.booker.habits_to_strengthen'][value='being_present']")
    page.check("input[name='intake.booker.safe_at_home'][value='yes']")
    page.check("input[name='intake.booker.harmed_past_year'][value='no']")
    agree_to_everything(page)
    page.get_by_role("button", name="Book this time").click()

    # The confirmation, at the manage link.
    expect(page.get_by_role("heading", level=1)).to_have_text("Your consultation is booked")
    assert "?booked=1" in page.url
    manage_url = page.url.split("?")[0]
    reference = page.locator(".reference").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", reference)
    expect(page.get_by_text("Sam Park has not answered their part yet.")).to_be_visible()
    assert_accessible(page, "confirmation")

    # The time is no longer offered.
    page.goto(times_url)
    expect(page.locator(f'a[href="{slot_href}"]')).to_have_count(0)

    # The second partner opens their own link (emails carry it once they are connected).
    token = derive_token(server.secret_key, "intake", f"{reference}:2", 0)
    page.goto(f"{server.base_url}/intake/{token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your part, Sam Park")
    assert_accessible(page, "partner intake")

    # A first try without the consents is refused, with the summary focused for a reader.
    page.check("input[name='answers.trust_in_care'][value='7']")
    page.check("input[name='answers.communication_satisfaction'][value='5']")
    page.check("input[name='answers.trust_strains'][value='stress']")
    page.check("input[name='answers.safe_at_home'][value='not_sure']")
    page.check("input[name='answers.harmed_past_year'][value='no']")
    page.get_by_role("button", name="Send my answers").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(4)
    expect(page.locator("input[name='answers.safe_at_home'][value='not_sure']")).to_be_checked()
    assert_accessible(page, "partner intake with errors")
    summary.get_by_role("link").first.click()
    expect(page.locator("#f-consents-purpose")).to_be_focused()

    agree_to_everything(page)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, Sam Park")
    expect(page.get_by_role("heading", name="If you would like support")).to_be_visible()
    assert_accessible(page, "thank-you")

    # Back on the manage page: both have answered; cancel.
    page.goto(manage_url)
    expect(page.get_by_text("Sam Park has answered their part.")).to_be_visible()
    expect(page.get_by_text("If you would like support")).to_have_count(0)
    assert_accessible(page, "manage")
    page.locator("summary", has_text="Cancel the consultation").click()
    page.fill("textarea[name='reason']", "Our plans changed.")
    page.get_by_role("button", name="Yes, cancel the consultation").click()
    expect(page.get_by_text("The consultation is cancelled.")).to_be_visible()
    expect(page.get_by_role("button", name="Yes, cancel the consultation")).to_have_count(0)
    assert_accessible(page, "cancelled booking")

    # The same time is offered again.
    page.goto(times_url)
    expect(page.locator(f'a[href="{slot_href}"]')).to_have_count(1)
