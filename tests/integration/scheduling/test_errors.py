"""Bad input gets a 4xx in the API's error shape, never a 500."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.factories import make_therapist, make_type


def assert_error(response: object, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == code
    assert error["message"]
    if field is not None:
        assert field in [f["field"] for f in error["fields"]]


@pytest.fixture
async def practice(client: AsyncClient) -> None:
    type_id = await make_type("consult")
    await make_type("other")
    await make_therapist("ana", types=(type_id,), hours=((0, "09:00", "12:00"),))


@pytest.mark.parametrize(
    ("params", "status", "code", "field"),
    [
        ({}, 422, "validation_error", "consultation_type"),
        ({"consultation_type": "nope"}, 404, "not_found", None),
        ({"consultation_type": "consult", "therapist": "nobody"}, 404, "not_found", None),
        ({"consultation_type": "other", "therapist": "ana"}, 422, "validation_error", "therapist"),
        (
            {"consultation_type": "consult", "start": "2026-12-10", "end": "2026-12-01"},
            422,
            "validation_error",
            "end",
        ),
        (
            {"consultation_type": "consult", "start": "2026-12-01", "end": "2027-02-02"},
            422,
            "validation_error",
            "end",
        ),
        ({"consultation_type": "consult", "start": "2026-02-30"}, 422, "validation_error", "start"),
        ({"consultation_type": "consult", "start": "tomorrow"}, 422, "validation_error", "start"),
        ({"consultation_type": "consult", "end": "20261201"}, 422, "validation_error", "end"),
        ({"consultation_type": "consult", "tz": "Mars/Olympus"}, 422, "validation_error", "tz"),
        ({"consultation_type": "consult", "tz": "../../etc/passwd"}, 422, "validation_error", "tz"),
    ],
)
@pytest.mark.usefixtures("practice")
async def test_bad_availability_queries_are_refused_with_the_error_shape(
    client: AsyncClient, params: dict[str, str], status: int, code: str, field: str | None
) -> None:
    assert_error(await client.get("/api/v1/availability", params=params), status, code, field)


@pytest.mark.usefixtures("practice")
async def test_a_window_of_exactly_62_days_is_accepted(client: AsyncClient) -> None:
    response = await client.get(
        "/api/v1/availability",
        params={"consultation_type": "consult", "start": "2026-12-01", "end": "2027-02-01"},
    )
    assert response.status_code == 200


async def test_unknown_routes_and_wrong_methods_use_the_error_shape(
    client: AsyncClient,
) -> None:
    assert_error(await client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(await client.delete("/api/v1/therapists"), 405, "method_not_allowed")
    assert_error(await client.get("/api/v1/therapists/nobody"), 404, "not_found")


async def test_a_browser_gets_an_html_page_for_an_unknown_page(client: AsyncClient) -> None:
    response = await client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "We could not find that page" in response.text
