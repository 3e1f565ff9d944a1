"""What the workspace's pages share: who acts (for the audit log), which therapist a page is
for, and the page's common context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from litestar import Request

from booking.core.acting import Acting
from booking.staff.principal import StaffPrincipal
from booking.staff.reach import therapists_in_reach
from booking.web.staff_auth import staff_auth


def acting(request: Request[Any, Any, Any], principal: StaffPrincipal) -> Acting:
    """The signed-in person as the audit log keeps them: actor, and the address digest and
    user agent the sign-in events keep too."""
    client = staff_auth(request).client(request)
    return Acting(principal.actor, client.address, client.agent)


def chosen(principal: StaffPrincipal, therapist: str | None) -> str | None:
    """The `therapist=<slug>` a page was asked for: an admin's choice; a therapist's pages are
    always their own, so what they pass is only checked (by the services' reach)."""
    value = (therapist or "").strip()
    return value or None


async def page_context(
    principal: StaffPrincipal, therapist_slug: str, **context: Any
) -> dict[str, Any]:
    """The context every workspace page has: who is signed in, whose page it is, and for an
    admin the therapists to choose from."""
    choices = await therapists_in_reach(principal) if principal.is_admin else []
    return {
        "principal": principal,
        "therapist_slug": therapist_slug,
        "therapist_choices": choices,
        **context,
    }


def with_therapist(path: str, principal: StaffPrincipal, slug: str, **query: str) -> str:
    """`path` with the query an admin's page keeps (`therapist=<slug>`) and `query`."""
    params: Mapping[str, str] = {**({"therapist": slug} if principal.is_admin else {}), **query}
    if not params:
        return path
    return f"{path}?{urlencode(params)}"
