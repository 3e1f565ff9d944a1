"""The calendar page's facts: the private feed URL, a new one, invitation emails on or off;
each change audited without the URL."""

from __future__ import annotations

from httpx import AsyncClient

from booking.core.audit import AuditEvent
from booking.notifications.tables import OutboxMessage
from booking.scheduling.tables import Therapist
from tests.integration.practice import AT_9, AT_10, Practice
from tests.integration.workspace.conftest import ADMIN, Workspace, acting, book, therapist


def feed_path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


async def test_the_feed_url_works_and_a_new_one_retires_it(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    ana = therapist(practice.therapist_id)
    await book(client, AT_9)

    facts = await workspace.feed.facts(ana, None)
    first = await client.get(feed_path(facts.url))
    rotated = await workspace.feed.rotate(ana, None, acting(ana))

    assert first.status_code == 200
    assert "BEGIN:VEVENT" in first.text
    assert rotated.url != facts.url
    assert (await client.get(feed_path(facts.url))).status_code == 404
    assert (await client.get(feed_path(rotated.url))).status_code == 200
    (event,) = await AuditEvent.select(AuditEvent.action, AuditEvent.record).where(
        AuditEvent.action.like("feed.%")
    )
    assert event == {"action": "feed.rotated", "record": "therapist:ana feed"}
    token = rotated.url.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in str(await AuditEvent.select())


async def test_invitation_emails_off_leave_the_therapist_to_the_feed(
    workspace: Workspace, practice: Practice, client: AsyncClient
) -> None:
    await Therapist.update({Therapist.email: "ana@practice.example"}).where(
        Therapist._meta.primary_key == practice.therapist_id
    )
    await book(client, AT_9)

    off = await workspace.feed.set_invitations(ADMIN, "ana", False, acting(ADMIN))
    await book(client, AT_10)

    assert off.invitations is False
    invitations = await OutboxMessage.select(OutboxMessage.booking).where(
        (OutboxMessage.kind == "invitation") & (OutboxMessage.recipient == "therapist")
    )
    assert len(invitations) == 1
    on = await workspace.feed.set_invitations(ADMIN, "ana", True, acting(ADMIN))
    assert on.invitations is True
    changes = await AuditEvent.select(AuditEvent.record).where(AuditEvent.action.like("feed.%"))
    assert [r["record"] for r in changes] == [
        "therapist:ana invitation emails off",
        "therapist:ana invitation emails on",
    ]
