"""The admin's review in a real browser: an admin signs in with a second factor, finds the
safety-flagged couple on top of the queue, keeps a note, gives the booking to another
therapist (whose calendar feed and both partners' emails show the move), exports a couple's
data, erases another's, and reads the audit log; axe-core checks every page visited."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.staff import add_admin, sign_in_and_enrol
from tests.e2e.test_booking_journey import assert_accessible
from tests.e2e.test_therapist_workspace import api
from tests.factories import booking_request, couple_answers, partner_answers

EMAIL = "reviewer@staff.example.org"
PASSWORD = "tide tables and lanterns"
FLAGGED = [
    {"name": "Quinn Marlowe", "email": "quinn.marlowe@example.org", "phone": "+1 416 555 0177"},
    {"name": "Avery Marlowe", "email": "avery.marlowe@example.org"},
]
PLAIN = [
    {"name": "Jordan Ashby", "email": "jordan.ashby@example.org", "phone": "+1 416 555 0188"},
    {"name": "Casey Ashby", "email": "casey.ashby@example.org"},
]
NOTE = "Called Quinn on the safe number; a video call suits them."


def starts(server: Server, therapist: str) -> list[str]:
    found = api(server, f"/api/v1/availability?consultation_type=intro-call&therapist={therapist}")
    slots = found["slots"]
    assert isinstance(slots, list)
    return [str(s["start"]) for s in slots]


def book(server: Server, start: str, partners: list[dict[str, str]], *, flagged: bool) -> str:
    body = booking_request(
        start,
        therapist="amara-okafor",
        kind="intro-call",
        mode="phone",
        partners=partners,
        intake={
            "couple": couple_answers(),
            "booker": partner_answers(safe_at_home="no" if flagged else "yes"),
        },
    )
    return str(api(server, "/api/v1/bookings", body)["reference"])


def mail_to(server: Server, address: str, subject_holds: str) -> list[str]:
    """The subjects of the emails the sink received for `address` holding `subject_holds`,
    waiting for the first (the in-process worker sends them a moment after the change)."""

    def found() -> list[str]:
        return [
            str(r.message["Subject"])
            for r in server.mail.received
            if address in r.recipients and subject_holds in str(r.message["Subject"])
        ]

    with server.mail.condition:
        server.mail.condition.wait_for(found, timeout=30)
        return found()


def test_an_admin_reviews_reassigns_exports_erases_and_reads_the_audit_log(
    page: Page, server: Server
) -> None:
    add_admin(server, EMAIL, PASSWORD, "Riley Reviewer")
    amara = starts(server, "amara-okafor")
    daniel = {datetime.fromisoformat(s) for s in starts(server, "daniel-reyes")}
    shared = [s for s in amara if datetime.fromisoformat(s) in daniel]
    assert shared, "Amara and Daniel share no free time"
    plain = book(server, amara[0], PLAIN, flagged=False)
    flagged = book(server, shared[-1], FLAGGED, flagged=True)

    # The queue: the flagged couple above the one booked sooner, safety follow-ups on top.
    sign_in_and_enrol(page, server, EMAIL, PASSWORD, "/staff/intakes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Review queue")
    rows = page.locator("table.queue tbody tr")
    expect(rows.first).to_have_class(re.compile("flagged"))
    texts = rows.all_inner_texts()
    where = {ref: next(i for i, t in enumerate(texts) if ref in t) for ref in (plain, flagged)}
    assert where[flagged] < where[plain]
    assert_accessible(page, "review queue")

    # The couple's page: a note, kept and listed.
    rows.nth(where[flagged]).get_by_role("link").click()
    expect(page.get_by_role("heading", name="The practice's review")).to_be_visible()
    expect(page.locator(".safety")).to_contain_text("Quinn Marlowe")
    page.get_by_label("Note", exact=True).fill(NOTE)
    page.get_by_role("button", name="Add the note").click()
    expect(page.get_by_role("status")).to_contain_text("The note is kept.")
    expect(page.locator("main")).to_contain_text(NOTE)
    assert_accessible(page, "couple's page")

    # Reassignment to Daniel, free at that time.
    page.get_by_label("Give it to").select_option("daniel-reyes")
    page.get_by_role("button", name="Reassign at the same time").click()
    expect(page.get_by_role("status")).to_contain_text("The booking is with its new therapist.")
    expect(page.locator("main")).to_contain_text("With Daniel Reyes.")
    assert_accessible(page, "couple's page, reassigned")
    for partner in FLAGGED:
        assert mail_to(server, partner["email"], "Daniel Reyes"), partner["email"]
    page.goto(f"{server.base_url}/staff/feed?therapist=daniel-reyes")
    feed_url = page.get_by_label("Feed address").input_value()
    assert_accessible(page, "Daniel's calendar feed")
    with urllib.request.urlopen(feed_url, timeout=10) as response:
        feed = response.read().decode().replace("\r\n ", "")
    assert "Quinn" in feed
    assert "Avery" in feed

    # The export: a download of the couple's file.
    page.goto(f"{server.base_url}/staff/bookings/{flagged}")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^Export everything")).click()
    assert download.value.suggested_filename == f"booking-{flagged}.json"
    exported = json.loads(Path(download.value.path()).read_text())
    assert exported["booking"]["reference"] == flagged
    assert [n["text"] for n in exported["notes"]] == [NOTE]

    # The erasure of the other couple: cancelled first, then the reference typed again.
    page.goto(f"{server.base_url}/staff/bookings/{plain}")
    page.get_by_role("button", name="Cancel the consultation for the practice").click()
    expect(page.get_by_role("status")).to_contain_text("The consultation is cancelled")
    assert_accessible(page, "couple's page, cancelled")
    page.get_by_role("link", name="Erase this couple's data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Erase the couple's data")
    assert_accessible(page, "erase")
    page.get_by_label(re.compile("Type the booking's reference")).fill("NOT-THIS-ONE")
    page.get_by_role("button", name="Erase for good").click()
    expect(page.locator("#error-summary")).to_contain_text("Type the booking's reference again")
    assert_accessible(page, "erase, with a problem")
    page.get_by_label(re.compile("Type the booking's reference")).fill(plain)
    page.get_by_role("button", name="Erase for good").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Booking {plain} is erased")
    assert_accessible(page, "erased")

    # The audit log of the erased booking: who did what, no names.
    page.goto(f"{server.base_url}/staff/audit?booking={plain}")
    table = page.locator("table.audit")
    expect(table).to_contain_text("booking.erased")
    expect(table).to_contain_text("intake.listed")
    expect(page.locator("main")).not_to_contain_text("Jordan")
    assert_accessible(page, "audit log")
