"""The staff accounts page over HTTP, as an admin uses it: add an account (its one-time
password shown once, and working), a form with problems kept and named, disable (sessions
end, sign-in refused), reset a password or a second factor, the last admin kept, every change
audited, and a therapist given the 404 of a page that does not exist."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

from booking.core.audit import AuditEvent
from booking.staff.principal import Role
from booking.staff.tables import StaffAccount, StaffRecoveryCode, StaffSession
from tests.integration.conftest import FixedClock
from tests.integration.practice import Practice
from tests.staff_support import (
    StaffLogin,
    create_staff,
    form_token,
    post_form,
    session_cookie,
    set_session_cookie,
    sign_in,
)

HTML = {"accept": "text/html"}
AGENT = "Mozilla/5.0 People-Pages-Test"
ONE_TIME = re.compile(r'<p class="one-time-password"><code>([^<]+)</code>')


async def signed_in_admin(client: AsyncTestClient[Any], clock: FixedClock) -> StaffLogin:
    admin = await create_staff(Role.ADMIN, name="Ada Admin", email="ada@staff.example.org")
    client.headers["user-agent"] = AGENT
    response = await sign_in(client, admin, at=clock.now)
    assert response.status_code == 303, response.text
    return admin


async def audited(action: str) -> list[dict[str, Any]]:
    return list(
        await AuditEvent.select(AuditEvent.actor, AuditEvent.record, AuditEvent.user_agent).where(
            AuditEvent.action == action
        )
    )


async def account_id(email: str) -> int:
    row = await StaffAccount.select(StaffAccount.id).where(StaffAccount.email == email).first()
    assert row is not None
    return int(row["id"])


async def test_an_added_therapist_account_signs_in_with_the_one_time_password_shown_once(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    admin = await signed_in_admin(client, clock)

    added = await post_form(
        client,
        "/staff/people",
        {
            "email": " Ana@Practice.Example ",
            "name": "Ana Lima",
            "role": "therapist",
            "therapist": "ana",
        },
    )

    assert added.status_code == 200, added.text
    assert added.headers["cache-control"] == "no-store"
    found = ONE_TIME.search(added.text)
    assert found is not None
    one_time = found.group(1)
    listed = await client.get("/staff/people", headers=HTML)
    assert "ana@practice.example" in listed.text
    assert one_time not in listed.text
    (created,) = [e for e in await audited("staff.account_created") if e["actor"] != "system"]
    assert created["actor"] == f"staff:{admin.account_id}"
    assert created["user_agent"] == AGENT
    assert one_time not in str(await AuditEvent.select())
    # The new account's first sign-in asks for a password of its own.
    await client.post("/staff/logout", data={"_csrf_token": await form_token(client, "/staff")})
    login = StaffLogin(0, "ana@practice.example", one_time, Role.THERAPIST)
    first = await sign_in(client, login, at=clock.now)
    assert first.headers["location"] == "/staff/password"


async def test_an_account_form_with_problems_keeps_its_values_and_names_each(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    await signed_in_admin(client, clock)

    refused = await post_form(
        client,
        "/staff/people",
        {"email": "not an address", "name": "Sam <b>", "role": "therapist", "therapist": ""},
    )

    assert refused.status_code == 422, refused.text
    assert "Enter an email address like name@example.org." in refused.text
    assert 'value="not an address"' in refused.text
    assert "answers need another look" in refused.text or "One answer" in refused.text
    assert await StaffAccount.count() == 1
    assert len(await audited("staff.account_created")) == 1  # the admin's own, by the system


async def test_a_second_account_for_a_therapist_is_refused_with_a_message(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    await create_staff(therapist="ana")
    await signed_in_admin(client, clock)

    refused = await post_form(
        client,
        "/staff/people",
        {"email": "other@practice.example", "role": "therapist", "therapist": "ana"},
    )

    assert refused.status_code == 409, refused.text
    assert "That therapist has an account already." in refused.text
    assert 'value="other@practice.example"' in refused.text
    assert await StaffAccount.count() == 2


async def test_a_disabled_account_loses_its_sessions_and_cannot_sign_in(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    therapist = await create_staff(therapist="ana")
    await sign_in(client, therapist, at=clock.now)
    their_cookie = session_cookie(client)
    assert their_cookie is not None
    client.cookies.clear()  # the admin signs in elsewhere
    await signed_in_admin(client, clock)

    disabled = await post_form(
        client,
        f"/staff/people/{therapist.account_id}/disable",
        {},
        await form_token(client, "/staff/people"),
    )

    assert disabled.status_code == 303
    page = await client.get(disabled.headers["location"], headers=HTML)
    assert "The account is disabled" in page.text
    assert await StaffSession.count().where(StaffSession.account == therapist.account_id) == 0
    (event,) = await audited("staff.account_disabled")
    assert event["record"] == f"staff_account:{therapist.account_id}"
    client.cookies.clear()
    set_session_cookie(client, their_cookie)
    assert (await client.get("/staff", headers=HTML)).headers["location"] == "/staff/login"
    client.cookies.clear()
    again = await sign_in(client, therapist, at=clock.now)
    assert "That email and password do not match" in again.text


async def test_a_disabled_account_enabled_again_signs_in_with_its_own_password(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    therapist = await create_staff(therapist="ana")
    await signed_in_admin(client, clock)
    await post_form(
        client,
        f"/staff/people/{therapist.account_id}/disable",
        {},
        await form_token(client, "/staff/people"),
    )
    listed = await client.get("/staff/people", headers=HTML)
    assert "Enable again" in listed.text

    enabled = await post_form(
        client,
        f"/staff/people/{therapist.account_id}/enable",
        {},
        await form_token(client, "/staff/people"),
    )

    assert enabled.status_code == 303
    page = await client.get(enabled.headers["location"], headers=HTML)
    assert "The account is enabled again" in page.text
    (event,) = await audited("staff.account_enabled")
    assert event["record"] == f"staff_account:{therapist.account_id}"
    client.cookies.clear()
    back = await sign_in(client, therapist, at=clock.now)
    assert back.status_code == 303, back.text
    assert back.headers["location"] != "/staff/login"


async def test_the_last_admin_cannot_be_disabled(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    admin = await signed_in_admin(client, clock)
    token = await form_token(client, "/staff/people")

    refused = await post_form(client, f"/staff/people/{admin.account_id}/disable", {}, token)

    assert refused.status_code == 409, refused.text
    assert "This is the only active admin account" in refused.text
    assert (await client.get("/staff/people", headers=HTML)).status_code == 200
    assert await audited("staff.account_disabled") == []
    # With a second admin, one of the two may go; then the first is the last again.
    other = await create_staff(Role.ADMIN)
    done = await post_form(client, f"/staff/people/{other.account_id}/disable", {}, token)
    assert done.status_code == 303
    refused_again = await post_form(client, f"/staff/people/{admin.account_id}/disable", {}, token)
    assert refused_again.status_code == 409
    for missing in ("999999", "abc"):
        gone = await post_form(client, f"/staff/people/{missing}/disable", {}, token)
        assert gone.status_code == 404


async def test_a_password_reset_shows_a_new_one_time_password_and_ends_sessions(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    therapist = await create_staff(therapist="ana", totp=True)
    await signed_in_admin(client, clock)
    token = await form_token(client, "/staff/people")

    reset = await post_form(
        client, f"/staff/people/{therapist.account_id}/reset-password", {}, token
    )

    assert reset.status_code == 200, reset.text
    found = ONE_TIME.search(reset.text)
    assert found is not None
    assert "every session of the account has ended" in reset.text
    (event,) = await audited("staff.password_reset")
    assert event["record"] == f"staff_account:{therapist.account_id}"
    row = (
        await StaffAccount.select(StaffAccount.must_change_password, StaffAccount.totp_secret)
        .where(StaffAccount.id == therapist.account_id)
        .first()
    )
    assert row is not None
    assert row["must_change_password"]
    assert row["totp_secret"]
    assert await StaffSession.count() == 1  # the admin's own


async def test_a_second_factor_reset_clears_the_app_and_recovery_codes(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    therapist = await create_staff(therapist="ana", totp=True)
    await signed_in_admin(client, clock)
    token = await form_token(client, "/staff/people")

    reset = await post_form(
        client, f"/staff/people/{therapist.account_id}/reset-second-factor", {}, token
    )

    assert reset.status_code == 303
    page = await client.get(reset.headers["location"], headers=HTML)
    assert "The second factor is reset" in page.text
    row = (
        await StaffAccount.select(StaffAccount.totp_secret)
        .where(StaffAccount.id == therapist.account_id)
        .first()
    )
    assert row is not None
    assert row["totp_secret"] == ""
    assert (
        await StaffRecoveryCode.count().where(StaffRecoveryCode.account == therapist.account_id)
        == 0
    )
    assert len(await audited("staff.second_factor_reset")) == 1


async def test_a_therapist_gets_404_for_every_people_page(
    client: AsyncTestClient[Any], practice: Practice, clock: FixedClock
) -> None:
    therapist = await create_staff(therapist="ana")
    admin = await create_staff(Role.ADMIN)
    await sign_in(client, therapist, at=clock.now)
    token = await form_token(client, "/staff")

    pages = [await client.get("/staff/people", headers=HTML)]
    for path in (
        "/staff/people",
        f"/staff/people/{admin.account_id}/disable",
        f"/staff/people/{admin.account_id}/reset-password",
        f"/staff/people/{admin.account_id}/reset-second-factor",
    ):
        pages.append(
            await post_form(client, path, {"email": "x@y.example", "role": "admin"}, token)
        )

    assert [p.status_code for p in pages] == [404] * 5
    assert await StaffAccount.count() == 2
    assert await AuditEvent.count().where(AuditEvent.action.like("staff.account%")) == 2
