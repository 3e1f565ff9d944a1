"""A couple books the paid consultation and pays its deposit in a real browser, through the
Stripe emulator `booking serve` starts in development: a declined card first (its message, the
form kept), then the test card, then the confirmation; and an admin who finds the paid deposit
on the couple's page and refunds it, once. Every page is checked with axe-core."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Server
from tests.e2e.staff import add_admin, sign_in_and_enrol
from tests.e2e.test_booking_journey import agree_to_everything, assert_accessible

DECLINED = "4000000000000002"
TEST_CARD = "4242424242424242"
ADMIN_EMAIL = "deposits@staff.example.org"
ADMIN_PASSWORD = "ledger lines at low tide"


def field(page: Page, name: str) -> Locator:
    return page.get_by_role("textbox", name=name, exact=True)


def fill_card(page: Page, number: str) -> None:
    """The emulator's card field: plain inputs, labelled by the page."""
    field(page, "Card number").fill(number)
    field(page, "Expiry month (MM)").fill("12")
    field(page, "Expiry year (YY)").fill("30")
    field(page, "Security code").fill("123")
    field(page, "Postal code").fill("M5J0A1")


def book_the_paid_consultation(page: Page, server: Server) -> None:
    page.goto(server.base_url + "/")
    page.get_by_role("listitem").filter(has_text="Couples consultation").get_by_role(
        "link", name="See times for this consultation"
    ).click()
    expect(page.get_by_text("paid online when you book")).to_be_visible()
    # With Priya Sharma: the other journeys of this server book with the others.
    page.select_option("#therapist", "priya-sharma")
    page.get_by_role("button", name="Show times").click()
    page.locator("a.slot").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book your consultation")
    page.fill("#f-partners-0-name", "Robin Park")
    page.fill("#f-partners-0-email", "robin@example.org")
    page.fill("#f-partners-1-name", "Sam Park")
    page.fill("#f-partners-1-email", "sam@example.org")
    page.check("input[name='intake.couple.time_together'][value='4_to_10_years']")
    page.check("input[name='intake.couple.living_together'][value='yes']")
    page.fill("#f-intake-couple-hoped_for_help", "We keep having the same argument about chores.")
    page.check("input[name='intake.booker.trust_in_care'][value='6']")
    page.check("input[name='intake.booker.communication_satisfaction'][value='4']")
    page.check("input[name='intake.booker.habits_to_strengthen'][value='listening_fully']")
    page.check("input[name='intake.booker.safe_at_home'][value='yes']")
    page.check("input[name='intake.booker.harmed_past_year'][value='no']")
    agree_to_everything(page)
    page.get_by_role("button", name="Book this time").click()


def test_a_couple_pays_the_deposit_after_a_declined_card(page: Page, server: Server) -> None:
    book_the_paid_consultation(page, server)

    expect(page.get_by_role("heading", level=1)).to_have_text("Pay the deposit")
    expect(page.get_by_text("This is a test.")).to_be_visible()
    expect(page.get_by_text("for a full refund of the deposit")).to_be_visible()
    pay = page.get_by_role("button", name="Pay the $50.00 CAD deposit")
    expect(field(page, "Card number")).to_be_visible()
    assert_accessible(page, "payment")

    # A declined card: said in plain words, the form kept as typed, another try possible.
    fill_card(page, DECLINED)
    pay.click()
    expect(page.get_by_role("alert")).to_contain_text("declined")
    expect(field(page, "Card number")).to_have_value(DECLINED)
    expect(pay).to_be_enabled()
    assert_accessible(page, "payment with a declined card")

    field(page, "Card number").fill(TEST_CARD)
    pay.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your consultation is booked")
    expect(page.locator(".booking-facts")).to_contain_text("Confirmed")
    expect(
        page.get_by_text("You will both receive an email with a calendar invitation.")
    ).to_be_visible()
    assert_accessible(page, "paid confirmation")


def test_an_admin_sees_the_paid_deposit_and_refunds_it_once(page: Page, server: Server) -> None:
    book_the_paid_consultation(page, server)
    fill_card(page, TEST_CARD)
    page.get_by_role("button", name="Pay the $50.00 CAD deposit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your consultation is booked")
    reference = page.locator(".booking-facts .reference").inner_text()

    add_admin(server, ADMIN_EMAIL, ADMIN_PASSWORD, "Deposit Desk")
    sign_in_and_enrol(page, server, ADMIN_EMAIL, ADMIN_PASSWORD, f"/staff/bookings/{reference}")
    panel = page.get_by_role("region", name="Deposit")
    expect(panel).to_contain_text("$50.00")
    expect(panel).to_contain_text("pi_")
    assert_accessible(page, "the couple's page with its deposit")

    panel.get_by_role("link", name="Refund $50.00").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Refund the deposit")
    assert_accessible(page, "the refund's confirmation")
    page.get_by_role("button", name="Refund $50.00").click()

    panel = page.get_by_role("region", name="Deposit")
    expect(panel.locator("table.refunds")).to_contain_text("$50.00")
    # Nothing is left: the page offers no second refund.
    expect(panel.get_by_role("link", name="Refund $50.00")).to_have_count(0)
    assert_accessible(page, "the couple's page after the refund")
