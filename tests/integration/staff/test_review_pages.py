"""The admin's review pages over HTTP, signed in as an admin through the real sign-in pages:
the queue, the couple's page and each of its actions, the export, the erasure, the audit log;
what each writes to the audit log; and a therapist reaching none of it."""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

from httpx import AsyncClient

from booking.bookings.tables import Booking, Partner
from booking.core import audit
from booking.core.audit import SYSTEM, AuditAction, AuditEvent
from booking.core.db import write_transaction
from booking.notifications.tables import OutboxMessage
from booking.staff.principal import Role
from tests.benchmarks.review import _seed
from tests.factories import (
    ALL_CONSENTS,
    DISTINCTIVE,
    booking_request,
    make_therapist,
    partner_answers,
)
from tests.fixtures.databases import Database
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_9, AT_10, AT_11, Practice, intake_token, manage_token
from tests.staff_support import StaffLogin, create_staff, csrf_token, post_form, sign_in

HTML = {"accept": "text/html"}
NOTE = f"Called back; prefers evenings. {DISTINCTIVE}"


async def booked(client: AsyncClient, start: str, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/bookings", json=booking_request(start, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def second_partner_answers(client: AsyncClient, reference: str, **answers: Any) -> None:
    response = await client.post(
        f"/api/v1/intake/{intake_token(reference, 2)}",
        json={"answers": partner_answers(**answers), "consents": ALL_CONSENTS},
    )
    assert response.status_code == 200, response.text


async def as_admin(client: AsyncClient, clock: FixedClock) -> StaffLogin:
    login = await create_staff(Role.ADMIN, name="Ada Admin")
    response = await sign_in(client, login, at=clock())
    assert response.status_code == 303, response.text
    return login


async def records(action: str, reference: str) -> list[str]:
    rows = await (
        AuditEvent.select(AuditEvent.record)
        .where((AuditEvent.action == action) & (AuditEvent.booking_reference == reference))
        .order_by(AuditEvent._meta.primary_key)
    )
    return [r["record"] for r in rows]


async def page_token(client: AsyncClient, reference: str) -> str:
    return csrf_token((await client.get(f"/staff/bookings/{reference}", headers=HTML)).text)


async def test_the_queue_shows_safety_follow_ups_first_with_counts_and_reads_no_answer(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    early = (await booked(client, AT_9))["reference"]
    flagged = (await booked(client, AT_11))["reference"]
    await second_partner_answers(client, flagged, safe_at_home="no")
    await as_admin(client, clock)

    page = await client.get("/staff/intakes", headers=HTML)

    assert page.status_code == 200, page.text
    assert page.text.index(flagged) < page.text.index(early)
    assert "Safety follow-up" in page.text
    assert ">new</a>: 2" in page.text
    assert "2 bookings" in page.text
    # A list decrypts nothing: each booking listed is an `intake.listed` row, none `viewed`.
    for reference in (early, flagged):
        assert await records("intake.listed", reference) == ["queue"]
        assert await records("intake.viewed", reference) == []


async def test_the_queue_filters_by_flag_and_keeps_the_filters_in_the_form(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    plain = (await booked(client, AT_9))["reference"]
    flagged = (await booked(client, AT_11))["reference"]
    await second_partner_answers(client, flagged, safe_at_home="no")
    await as_admin(client, clock)

    page = await client.get(
        "/staff/intakes", params={"flag": "yes", "therapist": "ana"}, headers=HTML
    )

    assert page.status_code == 200, page.text
    assert flagged in page.text
    assert plain not in page.text
    assert '<option value="yes" selected>' in page.text
    assert '<option value="ana" selected>' in page.text


async def test_a_malformed_queue_filter_is_named_and_kept(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    await booked(client, AT_9)
    await as_admin(client, clock)

    page = await client.get(
        "/staff/intakes", params={"first": "next monday", "status": "lost"}, headers=HTML
    )

    assert page.status_code == 422, page.text
    assert "Give the date in the form YYYY-MM-DD." in page.text
    assert "Choose one of the statuses listed." in page.text
    assert 'value="next monday"' in page.text
    assert await AuditEvent.count().where(AuditEvent.action == "intake.listed") == 0


async def test_the_couples_page_audits_one_row_per_record_read_and_lists_the_history(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = (await booked(client, AT_10))["reference"]
    await second_partner_answers(client, reference, hoped_for_change="Second partner's words")
    await as_admin(client, clock)
    added = await post_form(
        client,
        f"/staff/bookings/{reference}/notes",
        {"text": NOTE},
        await page_token(client, reference),
    )
    assert added.status_code == 303, added.text
    before = await records("intake.viewed", reference)

    page = await client.get(added.headers["location"], headers=HTML)

    assert page.status_code == 200, page.text
    assert "The note is kept." in page.text
    assert "The practice's review" in page.text
    assert html.escape(NOTE) in page.text
    assert "Ada Admin:</span>" in page.text  # the note's author by name, not "staff:N"
    assert "Second partner&#39;s words" in page.text
    assert "Private: the other partner never sees this." in page.text
    (note_row,) = await records("note.added", reference)
    viewed = await records("intake.viewed", reference)
    assert viewed[len(before) :] == ["couple", "partner:1", "partner:2", note_row]
    assert "note.added" in page.text  # the history of who viewed and changed it
    assert page.text.count("intake.viewed") >= 4


async def test_a_status_change_shows_who_and_when(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = (await booked(client, AT_10))["reference"]
    await as_admin(client, clock)

    moved = await post_form(
        client,
        f"/staff/bookings/{reference}/status",
        {"status": "in_review"},
        await page_token(client, reference),
    )
    page = await client.get(moved.headers["location"], headers=HTML)

    assert moved.status_code == 303, moved.text
    assert "Now: <strong>in review</strong>" in page.text
    assert "new -&gt; in_review by Ada Admin" in page.text
    row = await Booking.select(Booking.review_status).where(Booking.reference == reference)
    assert row == [{"review_status": "in_review"}]


async def test_an_empty_note_comes_back_with_its_problem_and_nothing_is_kept(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = (await booked(client, AT_10))["reference"]
    await as_admin(client, clock)

    response = await post_form(
        client,
        f"/staff/bookings/{reference}/notes",
        {"text": "   "},
        await page_token(client, reference),
    )

    assert response.status_code == 422, response.text
    assert "Note: Write the note first." in response.text
    assert await records("note.added", reference) == []


async def test_a_busy_therapist_is_refused_with_their_free_times_and_one_is_taken(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    await make_therapist(
        "ben",
        name="Ben Okafor",
        types=(practice.type_id,),
        hours=((0, "09:00", "12:00"),),
        modes=["video", "phone"],
    )
    await booked(client, AT_10, therapist="ben")
    reference = (await booked(client, AT_10))["reference"]
    await as_admin(client, clock)
    token = await page_token(client, reference)

    refused = await post_form(
        client, f"/staff/bookings/{reference}/reassign", {"therapist": "ben"}, token
    )
    at_11 = datetime.fromisoformat(AT_11).isoformat()
    moved = await post_form(
        client,
        f"/staff/bookings/{reference}/reassign",
        {"therapist": "ben", "start": at_11},
        token,
    )
    page = await client.get(moved.headers["location"], headers=HTML)

    assert refused.status_code == 409, refused.text
    assert "Ben Okafor is not free at that time." in refused.text
    assert f'value="{at_11}"' in refused.text
    assert moved.status_code == 303, moved.text
    assert "The booking is with its new therapist." in page.text
    assert "With Ben Okafor." in page.text
    assert await records("booking.reassigned", reference) == ["therapist ana -> ben"]


async def test_a_fresh_intake_link_and_a_new_manage_link_kill_the_old_ones(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    made = await booked(client, AT_10)
    reference = made["reference"]
    await as_admin(client, clock)
    token = await page_token(client, reference)

    fresh = await post_form(
        client, f"/staff/bookings/{reference}/intake-link", {"partner": "2"}, token
    )
    replaced = await post_form(client, f"/staff/bookings/{reference}/manage-link", {}, token)
    page = await client.get(replaced.headers["location"], headers=HTML)

    assert (fresh.status_code, replaced.status_code) == (303, 303)
    assert "Both partners are sent a new manage link" in page.text
    old_intake = intake_token(reference, 2)
    assert (await client.get(f"/intake/{old_intake}", headers=HTML)).status_code == 404
    old_manage = manage_token(made["manage_url"])
    assert (await client.get(f"/manage/{old_manage}", headers=HTML)).status_code == 404
    assert await records("link.revoked", reference) != []


async def test_the_safety_follow_up_is_marked_done_from_the_page(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = (await booked(client, AT_10))["reference"]
    await second_partner_answers(client, reference, safe_at_home="no")
    await as_admin(client, clock)

    done = await post_form(
        client, f"/staff/bookings/{reference}/safety", {}, await page_token(client, reference)
    )
    page = await client.get(done.headers["location"], headers=HTML)

    assert done.status_code == 303, done.text
    assert "The safety follow-up is marked as done." in page.text
    assert "Marked as done on" in page.text
    assert await records("safety.resolved", reference) != []


async def test_the_export_is_a_private_download_audited_record_by_record(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = (await booked(client, AT_10))["reference"]
    await second_partner_answers(client, reference)
    await as_admin(client, clock)

    response = await client.get(f"/staff/bookings/{reference}/export.json")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="booking-{reference}.json"'
    )
    assert "no-store" in response.headers["cache-control"]
    document = json.loads(response.content)
    assert document["booking"]["reference"] == reference
    assert [p["name"] for p in document["partners"]] == ["Robin Park", "Sam Park"]
    assert await records("booking.exported", reference) == [
        "booking",
        "couple",
        "partner:1",
        "partner:2",
    ]


async def test_a_wrong_confirmation_changes_nothing_and_the_form_names_the_problem(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = (await booked(client, AT_10))["reference"]
    await as_admin(client, clock)
    token = csrf_token((await client.get(f"/staff/bookings/{reference}/erase", headers=HTML)).text)

    response = await post_form(
        client, f"/staff/bookings/{reference}/erase", {"confirm": "NOT-IT"}, token
    )

    missing = await client.get("/staff/bookings/NONE-0000/erase", headers=HTML)

    assert missing.status_code == 404, missing.text
    assert response.status_code == 422, response.text
    assert "Type the booking&#39;s reference again to confirm the erasure." in response.text
    assert 'value="NOT-IT"' in response.text
    row = await Booking.select(Booking.erased_at).where(Booking.reference == reference)
    assert row == [{"erased_at": None}]
    names = await Partner.select(Partner.name).order_by(Partner.position)
    assert [n["name"] for n in names] == ["Robin Park", "Sam Park"]
    assert await records("booking.erased", reference) == []


async def test_a_consultation_still_to_come_is_not_erased_before_it_is_cancelled(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = (await booked(client, AT_10))["reference"]
    await as_admin(client, clock)
    token = csrf_token((await client.get(f"/staff/bookings/{reference}/erase", headers=HTML)).text)

    refused = await post_form(
        client, f"/staff/bookings/{reference}/erase", {"confirm": reference}, token
    )
    cancelled = await post_form(
        client, f"/staff/bookings/{reference}/cancel", {}, await page_token(client, reference)
    )
    erased = await post_form(
        client, f"/staff/bookings/{reference}/erase", {"confirm": reference}, token
    )

    assert refused.status_code == 409, refused.text
    assert "still to take place: cancel it first" in refused.text
    assert cancelled.status_code == 303, cancelled.text
    assert erased.status_code == 200, erased.text
    assert f"Booking {reference} is erased" in erased.text


async def test_after_the_erasure_the_page_says_what_remains_and_every_link_is_dead(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    made = await booked(client, AT_10)
    reference = made["reference"]
    cancelled = await client.post(
        f"/api/v1/bookings/{manage_token(made['manage_url'])}/cancel", json={"reason": "Moved"}
    )
    assert cancelled.status_code == 200, cancelled.text
    await as_admin(client, clock)
    token = csrf_token((await client.get(f"/staff/bookings/{reference}/erase", headers=HTML)).text)

    erased = await post_form(
        client, f"/staff/bookings/{reference}/erase", {"confirm": reference.lower()}, token
    )
    page = await client.get(f"/staff/bookings/{reference}", headers=HTML)

    assert erased.status_code == 200, erased.text
    assert "What was erased" in erased.text
    assert "An anonymous record for the accounts" in erased.text
    assert await records("booking.erased", reference) != []
    assert f"/manage/{manage_token(made['manage_url'])}" not in page.text
    for path in (
        f"/manage/{manage_token(made['manage_url'])}",
        f"/intake/{intake_token(reference, 1)}",
        f"/intake/{intake_token(reference, 2)}",
    ):
        assert (await client.get(path, headers=HTML)).status_code == 404, path
    assert page.status_code == 200, page.text
    assert "Robin Park" not in page.text
    assert "was erased on" in page.text
    assert await OutboxMessage.count().where(OutboxMessage.status == "pending") == 0


async def test_the_audit_log_filters_by_booking_and_actor_and_shows_no_private_content(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = (await booked(client, AT_10))["reference"]
    other = (await booked(client, AT_11))["reference"]
    admin = await as_admin(client, clock)
    await post_form(
        client,
        f"/staff/bookings/{reference}/notes",
        {"text": NOTE},
        await page_token(client, reference),
    )

    by_booking = await client.get("/staff/audit", params={"booking": reference}, headers=HTML)
    by_actor = await client.get(
        "/staff/audit", params={"actor": admin.email, "action": "note.added"}, headers=HTML
    )
    unknown = await client.get("/staff/audit", params={"actor": "nobody@x.example"}, headers=HTML)

    assert by_booking.status_code == 200, by_booking.text
    assert "<td>intake.viewed</td>" in by_booking.text
    assert other not in by_booking.text
    assert f'value="{reference}"' in by_booking.text
    assert by_actor.status_code == 200, by_actor.text
    # Who, by name: the log keeps the account's id (staff:N), the page shows whose it is.
    assert "<td>Ada Admin</td><td>note.added</td>" in by_actor.text
    assert f"<td>staff:{admin.account_id}</td>" not in by_actor.text
    assert by_actor.text.count("<td>note.added</td>") == 1
    assert "<td>intake.viewed</td>" not in by_actor.text
    for page in (by_booking, by_actor):
        for private in (DISTINCTIVE, "Robin Park", "robin@example.org", "prefers evenings"):
            assert private not in page.text
    assert unknown.status_code == 422, unknown.text
    assert "No staff account has this email." in unknown.text


async def test_the_audit_log_pages_to_older_events(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    async with write_transaction():
        for n in range(105):
            await audit.record(
                AuditAction.INTAKE_PURGED, actor=SYSTEM, booking="", record=f"r{n}", at=clock()
            )
    await as_admin(client, clock)

    newest = await client.get("/staff/audit", params={"action": "intake.purged"}, headers=HTML)
    link = newest.text.split("Older events")[0].rsplit('href="', 1)[1].split('"')[0]
    older = await client.get(html.unescape(link), headers=HTML)

    assert newest.status_code == 200, newest.text
    assert ">r104<" in newest.text
    assert ">r4<" not in newest.text
    assert older.status_code == 200, older.text
    assert ">r4<" in older.text
    assert ">r104<" not in older.text
    assert "Newest events" in older.text


async def test_a_therapist_gets_404_from_every_admin_page_and_sees_no_review_tools(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = (await booked(client, AT_10))["reference"]
    login = await create_staff(therapist="ana")
    await sign_in(client, login, at=clock())
    own = await client.get(f"/staff/bookings/{reference}", headers=HTML)
    token = csrf_token(own.text)

    for path in (
        "/staff/intakes",
        "/staff/audit",
        f"/staff/bookings/{reference}/export.json",
        f"/staff/bookings/{reference}/erase",
    ):
        assert (await client.get(path, headers=HTML)).status_code == 404, path
    for path, data in (
        (f"/staff/bookings/{reference}/erase", {"confirm": reference}),
        (f"/staff/bookings/{reference}/notes", {"text": "x"}),
        (f"/staff/bookings/{reference}/status", {"status": "closed"}),
        (f"/staff/bookings/{reference}/reassign", {"therapist": "ana"}),
        (f"/staff/bookings/{reference}/intake-link", {"partner": "2"}),
        (f"/staff/bookings/{reference}/manage-link", {}),
        (f"/staff/bookings/{reference}/safety", {}),
        (f"/staff/bookings/{reference}/cancel", {}),
    ):
        assert (await post_form(client, path, data, token)).status_code == 404, path

    assert own.status_code == 200, own.text
    assert "The practice's review" not in own.text
    assert "Review queue" not in own.text
    row = await Booking.select(Booking.erased_at, Booking.review_status).where(
        Booking.reference == reference
    )
    assert row == [{"erased_at": None, "review_status": "new"}]


async def test_marking_a_consultation_too_early_keeps_the_admin_on_the_review_page(
    client: AsyncClient, practice: Practice, clock: FixedClock
) -> None:
    reference = (await booked(client, AT_10))["reference"]
    await as_admin(client, clock)

    refused = await post_form(
        client, f"/staff/bookings/{reference}/complete", {}, await page_token(client, reference)
    )

    assert refused.status_code == 409, refused.text
    assert 'role="alert"' in refused.text
    assert "The practice's review" in refused.text
    row = await Booking.select(Booking.status).where(Booking.reference == reference)
    assert row == [{"status": "confirmed"}]


async def test_the_queue_pages_on_with_its_filters_kept(
    client: AsyncClient, database: Database, clock: FixedClock
) -> None:
    await _seed(55, ended=False)  # 55 bookings, three of them flagged
    await as_admin(client, clock)

    first = await client.get("/staff/intakes", params={"flag": "no"}, headers=HTML)
    link = html.unescape(first.text.split("Next page")[0].rsplit('href="', 1)[1].split('"')[0])
    second = await client.get(link, headers=HTML)

    assert first.status_code == 200, first.text
    assert "52 bookings, page 1 of 2" in first.text
    assert link == "/staff/intakes?flag=no&page=2"
    assert second.status_code == 200, second.text
    assert "52 bookings, page 2 of 2" in second.text
    assert second.text.count("<tr>") + second.text.count('<tr class="flagged">') == 1 + 2
    assert "Previous page" in second.text
