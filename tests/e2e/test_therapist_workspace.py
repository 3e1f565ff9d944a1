"""A therapist's day in a real browser: sign in with a second factor (codes computed from the
secret the enrolment page shows), change Tuesday's hours and see them on the public times
page at once, take a day off, read a couple's intake, sign out. axe-core checks every page
of the workspace for serious and critical violations."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyotp
from playwright.sync_api import Page, expect

from booking.core.db import close_pool, sqlite_engine
from booking.piccolo_app import use_engine
from tests.e2e.conftest import Server
from tests.e2e.test_booking_journey import assert_accessible
from tests.factories import booking_request, couple_answers, partner_answers
from tests.fixtures.databases import run_async
from tests.staff_support import StaffLogin, demo_account

TORONTO = ZoneInfo("America/Toronto")
COUPLE = "Canary-Browser-Couple-Tapir"
BOOKER = "Canary-Browser-Booker-Heron"


def therapist_account(server: Server) -> StaffLogin:
    """Amara's demo account (`booking demo` made it), in the server's own database, with a
    password of the test's own and without a second factor yet."""

    async def create() -> StaffLogin:
        engine = sqlite_engine(str(server.data_dir / "booking.sqlite3"))
        use_engine(engine)
        try:
            return await demo_account("amara-okafor")
        finally:
            await close_pool(engine)

    return run_async(create())


def api(server: Server, path: str, body: object | None = None) -> dict[str, object]:
    request = urllib.request.Request(
        server.base_url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, object] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as refused:
        # The service's own words (the error shape of api.md) say what was wrong.
        raise AssertionError(f"{path}: {refused.code} {refused.read().decode()}") from None


def book_amara(server: Server) -> str:
    """A free call with Amara through the public API, with answers to look for."""
    found = api(server, "/api/v1/availability?consultation_type=intro-call&therapist=amara-okafor")
    slots = found["slots"]
    assert isinstance(slots, list)
    assert slots
    body = booking_request(
        slots[-1]["start"],
        therapist="amara-okafor",
        kind="intro-call",
        mode="phone",
        partners=[
            {"name": "Robin Park", "email": "robin@example.org", "phone": "+1 416 555 0134"},
            {"name": "Sam Park", "email": "sam@example.org"},
        ],
        intake={
            "couple": couple_answers(hoped_for_help=COUPLE, preferred_format="phone"),
            "booker": partner_answers(hoped_for_change=BOOKER),
        },
    )
    booked = api(server, "/api/v1/bookings", body)
    return str(booked["reference"])


def next_tuesday() -> date:
    today = datetime.now(TORONTO).date()
    return today + timedelta(days=(1 - today.weekday()) % 7 or 7)


def times_page(page: Page, server: Server) -> None:
    page.goto(server.base_url + "/times?type=intro-call&therapist=amara-okafor&tz=America/Toronto")


def test_a_therapist_edits_hours_takes_a_day_off_reads_an_intake_and_signs_out(
    page: Page, server: Server
) -> None:
    login = therapist_account(server)
    reference = book_amara(server)
    tuesday = next_tuesday()

    # Signing in: password, then enrolment of the second factor from the key on the page.
    page.goto(server.base_url + "/staff")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.fill("#f-email", login.email)
    page.fill("#f-password", login.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your second factor")
    secret = page.locator(".secret code").inner_text().replace(" ", "")
    page.fill("#f-code", pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("link", name="I have kept them: continue").click()

    # Home: the couple's consultation, first names only.
    expect(page.get_by_role("heading", level=1)).to_have_text("Consultations")
    expect(page.locator(".consultations")).to_contain_text("Robin and Sam")
    assert_accessible(page, "workspace home")

    # Tuesday's hours: an evening range in the first spare row, seen at once by couples.
    times_page(page, server)
    day = page.locator(f"#day-{tuesday.isoformat()}").locator("xpath=..")
    expect(day).not_to_contain_text("7:00 p.m.")
    page.goto(server.base_url + "/staff/hours")
    assert_accessible(page, "weekly hours")
    tuesday_rows = page.get_by_role("group", name="Tuesday")
    tuesday_rows.get_by_label("Tuesday, range 3, from").fill("19:00")
    tuesday_rows.get_by_label("Tuesday, range 3, until").fill("20:00")
    page.get_by_role("button", name="Save the week").click()
    expect(page.get_by_role("status").first).to_contain_text("Couples see the new times now.")
    expect(page.locator(".preview")).to_contain_text("7:00 p.m.")
    assert_accessible(page, "weekly hours, saved")
    times_page(page, server)
    expect(page.locator(f"#day-{tuesday.isoformat()}").locator("xpath=..")).to_contain_text(
        "7:00 p.m."
    )

    # A mistake is named beside its field and the form keeps what was typed.
    page.goto(server.base_url + "/staff/hours")
    page.get_by_label("Wednesday, range 3, from").fill("15:00")
    page.get_by_label("Wednesday, range 3, until").fill("14:00")
    page.get_by_role("button", name="Save the week").click()
    expect(page.locator("#error-summary")).to_contain_text("This range ends before it starts.")
    expect(page.get_by_label("Wednesday, range 3, from")).to_have_value("15:00")
    assert_accessible(page, "weekly hours with a problem")

    # A day off: that Tuesday closed; the public times no longer offer it.
    page.goto(server.base_url + "/staff/overrides")
    page.get_by_label("Date", exact=True).fill(tuesday.isoformat())
    page.get_by_label("Closed all day").check()
    page.get_by_role("button", name="Save the date").click()
    expect(page.get_by_role("status").first).to_contain_text("The date's hours are saved.")
    assert_accessible(page, "date overrides")
    times_page(page, server)
    expect(page.locator(f"#day-{tuesday.isoformat()}")).to_have_count(0)

    page.goto(server.base_url + "/staff/time-off")
    assert_accessible(page, "time off")
    page.goto(server.base_url + "/staff/feed")
    expect(page.get_by_label("Feed address")).to_have_value(
        re.compile(re.escape(server.base_url) + r"/feeds/[^/]+\.ics")
    )
    assert_accessible(page, "calendar feed")

    # The couple's intake: both parts, the private one labelled so.
    page.goto(server.base_url + "/staff")
    page.locator(".consultations a").first.click()
    expect(page.get_by_role("heading", name="The couple's part")).to_be_visible()
    expect(page.locator("main")).to_contain_text(COUPLE)
    expect(page.locator(".private-part").first).to_contain_text(
        "Private: the other partner never sees this."
    )
    expect(page.locator(".private-part").first).to_contain_text(BOOKER)
    assert reference in page.url
    assert_accessible(page, "consultation")

    # Signing out: the staff pages ask for a sign-in again.
    page.get_by_role("button", name="Sign out").click()
    page.goto(server.base_url + "/staff")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")

    # Nothing the couple wrote reached the server's log, DEBUG and access log included.
    logged = server.log
    assert "GET /staff/bookings/" in logged
    assert COUPLE not in logged
    assert BOOKER not in logged
