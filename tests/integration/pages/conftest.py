"""The form fields a browser posts for the public pages, and what every private page sends."""

from __future__ import annotations

import re
from typing import Any

from httpx import AsyncClient, Response

from tests.factories import DISTINCTIVE
from tests.integration.practice import AT_10, intake_token

HTML = {"Accept": "text/html"}
PRIVATE_ANSWER = DISTINCTIVE
COUPLE_ANSWER = "We keep having the same argument about chores."


def book_query(start: str = AT_10, **overrides: str) -> dict[str, str]:
    query = {"type": "consult", "therapist": "ana", "start": start, "tz": "America/Toronto"}
    query.update(overrides)
    return query


def booking_form(start: str = AT_10, key: str = "key-1", **overrides: Any) -> dict[str, Any]:
    """What a browser posts to /book for a complete, valid form."""
    form: dict[str, Any] = {
        **book_query(start),
        "idempotency_key": key,
        "mode": "video",
        "partners[0].name": "Robin Park",
        "partners[0].email": "robin@example.org",
        "partners[0].phone": "",
        "partners[0].pronouns": "",
        "partners[1].name": "Sam Park",
        "partners[1].email": "sam@example.org",
        "partners[1].phone": "",
        "partners[1].pronouns": "they/them",
        "intake.couple.time_together": "4_to_10_years",
        "intake.couple.living_together": "yes",
        "intake.couple.hoped_for_help": COUPLE_ANSWER,
        "intake.couple.suitable_times": "",
        "intake.booker.trust_in_care": "6",
        "intake.booker.communication_satisfaction": "4",
        "intake.booker.habits_to_strengthen": ["listening_fully", "being_present"],
        "intake.booker.hoped_for_change": "",
        "intake.booker.safe_at_home": "yes",
        "intake.booker.harmed_past_year": "no",
        "intake.booker.private_contact": PRIVATE_ANSWER,
        "consents.purpose": "yes",
        "consents.privacy": "yes",
        "consents.policy": "yes",
        "consents.email": "yes",
    }
    form.update(overrides)
    return form


def partner_form(**overrides: Any) -> dict[str, Any]:
    """What a browser posts to /intake/<token> for a complete, safe answer."""
    form: dict[str, Any] = {
        "answers.trust_in_care": "7",
        "answers.communication_satisfaction": "5",
        "answers.trust_strains": ["stress", "distance"],
        "answers.safe_at_home": "yes",
        "answers.harmed_past_year": "no",
        "answers.private_contact": "",
        "consents.purpose": "yes",
        "consents.privacy": "yes",
        "consents.policy": "yes",
        "consents.email": "yes",
    }
    form.update(overrides)
    return form


async def book(client: AsyncClient, **overrides: Any) -> str:
    """Books through the form; returns the manage page's path."""
    response = await client.post("/book", data=booking_form(**overrides), headers=HTML)
    assert response.status_code == 303, response.text
    return response.headers["location"].split("?")[0]


def reference_on(page: str) -> str:
    found = re.search(r'<strong class="reference">([A-Z0-9-]+)</strong>', page)
    assert found, "no reference on the page"
    return found[1]


def intake_path(reference: str, position: int = 2) -> str:
    return f"/intake/{intake_token(reference, position)}"


def assert_private(response: Response) -> None:
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in response.headers["x-robots-tag"]
    if response.headers.get("content-type", "").startswith("text/html") and response.text:
        assert '<meta name="robots" content="noindex">' in response.text
