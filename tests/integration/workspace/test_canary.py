"""Distinctive intake answers read on the staff pages reach no log line (DEBUG included), no
audit row and no error page."""

from __future__ import annotations

import io
from typing import Any

from litestar.testing import AsyncTestClient

from booking.core.audit import AuditEvent
from tests.factories import couple_answers, partner_answers
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_10, Practice
from tests.integration.test_log_redaction import log_format, service_logs  # noqa: F401 (fixtures)
from tests.integration.workspace.conftest import answer_as_partner_two, book
from tests.staff_support import create_staff, csrf_token, sign_in

HTML = {"accept": "text/html"}
COUPLE = "Canary-Staff-Couple-Lemur"
BOOKER = "Canary-Staff-Booker-Ibis"
PARTNER = "Canary-Staff-Partner-Gecko"
CONTACT = "Canary-Staff-Contact-Marten"
CANARIES = (COUPLE, BOOKER, PARTNER, CONTACT)


async def test_answers_read_by_staff_are_in_no_log_audit_row_or_error_page(
    client: AsyncTestClient[Any],
    practice: Practice,
    clock: FixedClock,
    service_logs: io.StringIO,  # noqa: F811 (the fixture imported above)
) -> None:
    reference = await book(
        client,
        AT_10,
        intake={
            "couple": couple_answers(hoped_for_help=COUPLE),
            "booker": partner_answers(hoped_for_change=BOOKER),
        },
    )
    await answer_as_partner_two(
        client, reference, hoped_for_change=PARTNER, safe_at_home="no", private_contact=CONTACT
    )
    login = await create_staff(therapist="ana")
    assert (await sign_in(client, login, at=clock.now)).status_code == 303

    home = await client.get("/staff", headers=HTML)
    page = await client.get(f"/staff/bookings/{reference}", headers=HTML)
    assert home.status_code == 200
    assert page.status_code == 200
    assert all(c in page.text for c in CANARIES)
    token = csrf_token(page.text)
    errors = [
        await client.get("/staff/bookings/NOPE-NOPE", headers=HTML),
        await client.get(f"/staff/bookings/{reference}/nothing-here", headers=HTML),
        await client.post(f"/staff/bookings/{reference}/complete", headers=HTML),  # no token
        await client.post(
            "/staff/hours",
            data={"_csrf_token": token, "day": "tue", "start": "11:00", "end": "10:00"},
            headers=HTML,
        ),
        await client.get("/staff/hours", params={"therapist": COUPLE}, headers=HTML),
    ]

    assert [e.status_code for e in errors] == [404, 404, 403, 422, 404]
    for response in errors:
        assert not any(c in response.text for c in CANARIES), response.status_code
    logged = service_logs.getvalue()
    # In process the service logs only what goes wrong; the browser suite reads the real
    # server's DEBUG log (its access log included) for the same answers.
    assert not any(c in logged for c in CANARIES)
    audit = str(await AuditEvent.select())
    assert reference in audit
    assert not any(c in audit for c in CANARIES)
