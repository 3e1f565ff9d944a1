"""Sends a few requests to the service on a given database and prints what came back, one JSON
line, for tests/integration/test_optimised.py to compare runs with and without `python -O`.

    python [-O] -m tests.integration.flagged_requests DATABASE METHOD:PATH [METHOD:PATH ...]

DATABASE is a postgresql:// URL or an SQLite file; POSTs send `{"start": ...}` on the tests'
Monday at 11:00.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from litestar.testing import AsyncTestClient

from booking.core.db import postgres_engine, sqlite_engine
from booking.core.settings import Settings
from booking.web.app import create_app
from tests.integration.conftest import FixedClock
from tests.integration.practice import AT_11


async def send(database: str, requests: list[str]) -> list[dict[str, Any]]:
    engine = postgres_engine(database) if "://" in database else sqlite_engine(database)
    app = create_app(Settings.from_env(), engine, FixedClock())
    answers: list[dict[str, Any]] = []
    async with AsyncTestClient(app, base_url="http://testserver.local") as client:
        for request in requests:
            method, path = request.split(":", 1)
            page = not path.startswith("/api/")
            response = await client.request(
                method,
                path,
                json={"start": AT_11} if method == "POST" and not page else None,
                data={"start": AT_11} if method == "POST" and page else None,
                headers={"Accept": "text/html"} if page else None,
            )
            answer: dict[str, Any] = {"request": request, "status": response.status_code}
            if page:
                answer["page"] = response.text
            else:
                answer["error"] = response.json().get("error")
            answers.append(answer)
    return answers


if __name__ == "__main__":
    print(json.dumps(asyncio.run(send(sys.argv[1], sys.argv[2:]))))
