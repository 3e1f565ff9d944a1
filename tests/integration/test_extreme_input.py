"""No 500 for extreme dates and times: every date and instant the service takes is range-checked,
on the API (a 422 naming the field) and on the pages (the page's own error, as HTML)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response

import booking.intake.questionnaire as questionnaire_module
from booking.bookings.tables import Booking
from tests.factories import ALL_CONSENTS, booking_request, couple_answers, partner_answers
from tests.integration.pages.conftest import (
    HTML,
    book_query,
    booking_form,
    intake_path,
    partner_form,
)
from tests.integration.practice import AT_10, Practice, intake_token, manage_token

# The tests' clock reads 2026-12-02 (UTC): scheduling reaches ten years (3653 days) each way.
DATE_MESSAGE = "Give a date from 2016-12-01 to 2036-12-02."
TIME_MESSAGE = "Give a time from 2016-12-01 to 2036-12-02."
ANSWER_DATE_MESSAGE = "Give a date from 1900-01-01 to 2200-12-31."

EXTREME_DATES = [
    "0001-01-01",  # datetime's limits: a day before or after overflows
    "9999-12-31",
    "2016-11-30",  # a day beyond the reach, each way
    "2036-12-03",
]
EXTREME_INSTANTS = [
    "0001-01-01T00:00:00+23:59",  # before datetime.min once in UTC
    "9999-12-31T23:59:59-23:59",  # after datetime.max once in UTC
    "9999-12-31T23:59:59+00:00",
    "2016-11-30T09:00:00-05:00",
    "2040-01-02T09:00:00-05:00",
]


@dataclass
class Scene:
    client: AsyncClient
    _manage: str | None = None

    async def manage(self) -> str:
        """A live booking's manage token (made on first use)."""
        if self._manage is None:
            response = await self.client.post("/api/v1/bookings", json=booking_request(AT_10))
            assert response.status_code == 201, response.text
            self._manage = manage_token(response.json()["manage_url"])
        return self._manage


Send = Callable[[Scene, str], Awaitable[Response]]


async def availability_start(scene: Scene, value: str) -> Response:
    params = {"consultation_type": "consult", "start": value}
    return await scene.client.get("/api/v1/availability", params=params)


async def availability_end(scene: Scene, value: str) -> Response:
    params = {"consultation_type": "consult", "start": "2026-12-07", "end": value}
    return await scene.client.get("/api/v1/availability", params=params)


async def api_booking(scene: Scene, value: str) -> Response:
    return await scene.client.post("/api/v1/bookings", json=booking_request(value))


async def api_reschedule(scene: Scene, value: str) -> Response:
    token = await scene.manage()
    return await scene.client.post(f"/api/v1/bookings/{token}/reschedule", json={"start": value})


async def times_page(scene: Scene, value: str) -> Response:
    params = {"type": "consult", "therapist": "ana", "start": value}
    return await scene.client.get("/times", params=params, headers=HTML)


async def booking_form_page(scene: Scene, value: str) -> Response:
    return await scene.client.get("/book", params=book_query(value), headers=HTML)


async def booking_form_sent(scene: Scene, value: str) -> Response:
    return await scene.client.post("/book", data=booking_form(value), headers=HTML)


async def reschedule_page(scene: Scene, value: str) -> Response:
    token = await scene.manage()
    return await scene.client.get(
        f"/manage/{token}/reschedule", params={"start": value}, headers=HTML
    )


async def reschedule_sent(scene: Scene, value: str) -> Response:
    token = await scene.manage()
    return await scene.client.post(
        f"/manage/{token}/reschedule", data={"start": value}, headers=HTML
    )


API_DATES: list[tuple[Send, str]] = [(availability_start, "start"), (availability_end, "end")]
API_INSTANTS: list[tuple[Send, str]] = [(api_booking, "start"), (api_reschedule, "start")]
PAGE_DATES: list[Send] = [times_page, reschedule_page]
PAGE_INSTANTS: list[Send] = [booking_form_page, booking_form_sent, reschedule_sent]


def api_cases() -> list[Any]:
    return [
        pytest.param(send, field, value, message, id=f"{send.__name__}-{value}")
        for sends, values, message in (
            (API_DATES, EXTREME_DATES, DATE_MESSAGE),
            (API_INSTANTS, EXTREME_INSTANTS, TIME_MESSAGE),
        )
        for send, field in sends
        for value in values
    ]


def page_cases() -> list[Any]:
    return [
        pytest.param(send, value, message, id=f"{send.__name__}-{value}")
        for sends, values, message in (
            (PAGE_DATES, EXTREME_DATES, DATE_MESSAGE),
            (PAGE_INSTANTS, EXTREME_INSTANTS, TIME_MESSAGE),
        )
        for send in sends
        for value in values
    ]


def assert_refused(response: Response, field: str, message: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert {"field": field, "message": message} in error["fields"]


@pytest.mark.parametrize(("send", "field", "value", "message"), api_cases())
async def test_an_extreme_date_or_time_is_a_422_naming_the_field(
    client: AsyncClient, practice: Practice, send: Send, field: str, value: str, message: str
) -> None:
    scene = Scene(client)

    response = await send(scene, value)

    assert_refused(response, field, message)
    assert await Booking.count() == (0 if scene._manage is None else 1)


@pytest.mark.parametrize(("send", "value", "message"), page_cases())
async def test_an_extreme_date_or_time_on_a_page_shows_the_pages_error(
    client: AsyncClient, practice: Practice, send: Send, value: str, message: str
) -> None:
    scene = Scene(client)

    response = await send(scene, value)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert await Booking.count() == (0 if scene._manage is None else 1)


@pytest.mark.parametrize("value", ["2016-12-01", "2036-12-02"])
async def test_the_last_dates_within_reach_are_still_answered(
    client: AsyncClient, practice: Practice, value: str
) -> None:
    response = await availability_start(Scene(client), value)

    assert response.status_code == 200, response.text
    assert response.json()["slots"] == []  # beyond the horizon, before now: nothing open


async def test_an_offset_of_nearly_a_day_is_read_as_the_instant_it_names(
    client: AsyncClient, practice: Practice
) -> None:
    # 09:00 at +23:59 is 09:01 the day before in UTC: a Sunday, outside Ana's hours.
    response = await api_booking(Scene(client), "2026-12-07T09:00:00+23:59")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slot_unavailable"


# --- questionnaire answers of type "date" ------------------------------------------------------

EXTREME_ANSWER_DATES = ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"]


@pytest.fixture
def dated_questionnaire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped questionnaire with an optional date question in each part."""
    shipped = questionnaire_module.QUESTIONNAIRES / "couples-2026-1.json"
    data = json.loads(shipped.read_text())
    for audience, question_id in (("couple", "met_on"), ("each_partner", "last_counselling")):
        section = next(s for s in data["sections"] if s["audience"] == audience)
        section["questions"].append(
            {"id": question_id, "type": "date", "label": "When?", "required": False}
        )
    (tmp_path / shipped.name).write_text(json.dumps(data))
    monkeypatch.setattr(questionnaire_module, "QUESTIONNAIRES", tmp_path)


async def api_booking_answer(scene: Scene, value: str) -> Response:
    body = booking_request(AT_10)
    body["intake"]["couple"] = couple_answers(met_on=value)
    return await scene.client.post("/api/v1/bookings", json=body)


async def api_partner_answer(scene: Scene, value: str) -> Response:
    response = await scene.client.post("/api/v1/bookings", json=booking_request(AT_10))
    token = intake_token(response.json()["reference"], 2)
    body = {"answers": partner_answers(last_counselling=value), "consents": ALL_CONSENTS}
    return await scene.client.post(f"/api/v1/intake/{token}", json=body)


async def booking_form_answer(scene: Scene, value: str) -> Response:
    form = booking_form(**{"intake.couple.met_on": value})
    return await scene.client.post("/book", data=form, headers=HTML)


async def partner_page_answer(scene: Scene, value: str) -> Response:
    response = await scene.client.post("/api/v1/bookings", json=booking_request(AT_10))
    form = partner_form(**{"answers.last_counselling": value})
    path = intake_path(response.json()["reference"])
    return await scene.client.post(path, data=form, headers=HTML)


@pytest.mark.parametrize("value", EXTREME_ANSWER_DATES)
@pytest.mark.parametrize(
    ("send", "field"),
    [
        (api_booking_answer, "intake.couple.met_on"),
        (api_partner_answer, "answers.last_counselling"),
    ],
)
@pytest.mark.usefixtures("dated_questionnaire")
async def test_an_extreme_date_answer_is_a_422_naming_the_question(
    client: AsyncClient, practice: Practice, send: Send, field: str, value: str
) -> None:
    response = await send(Scene(client), value)

    assert_refused(response, field, ANSWER_DATE_MESSAGE)


@pytest.mark.parametrize("value", EXTREME_ANSWER_DATES)
@pytest.mark.parametrize("send", [booking_form_answer, partner_page_answer])
@pytest.mark.usefixtures("dated_questionnaire")
async def test_an_extreme_date_answer_on_a_form_comes_back_with_the_error(
    client: AsyncClient, practice: Practice, send: Send, value: str
) -> None:
    response = await send(Scene(client), value)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert ANSWER_DATE_MESSAGE in response.text


# U+0000: PostgreSQL refuses it in text (SQLite keeps it), so it must be refused alike on both,
# with the error shape and nothing stored, wherever it comes: a slug, a name, a query value.
NUL_BODIES = {
    "consultation type": ("consultation_type", "con\u0000sult"),
    "therapist": ("therapist", "a\u0000na"),
}


@pytest.mark.parametrize("where", sorted(NUL_BODIES))
async def test_a_nul_character_in_a_booking_is_refused_and_nothing_is_stored(
    client: AsyncClient, practice: Practice, where: str
) -> None:
    key, value = NUL_BODIES[where]
    body = booking_request(AT_10)
    body[key] = value

    refused = await client.post("/api/v1/bookings", json=body)

    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "validation_error"
    assert "\u0000" not in refused.text
    assert await Booking.count() == 0


async def test_a_nul_character_in_a_partners_name_is_refused_by_name(
    client: AsyncClient, practice: Practice
) -> None:
    body = booking_request(AT_10)
    body["partners"][0]["name"] = "Ro\u0000bin Park"

    refused = await client.post("/api/v1/bookings", json=body)

    assert refused.status_code == 422, refused.text
    assert [f["field"] for f in refused.json()["error"]["fields"]] == ["partners[0].name"]
    assert await Booking.count() == 0


@pytest.mark.parametrize("param", ["consultation_type", "therapist"])
async def test_a_nul_character_in_an_availability_query_is_a_client_error(
    client: AsyncClient, practice: Practice, param: str
) -> None:
    params = {"consultation_type": "consult", "therapist": "ana", param: "co\u0000nsult"}

    refused = await client.get("/api/v1/availability", params=params)

    # Unknown on SQLite (404, as any unknown slug), refused before the query on PostgreSQL (422).
    assert refused.status_code in (404, 422), refused.text
    assert refused.json()["error"]["code"] in ("not_found", "validation_error")
