"""schemathesis, every check on, against `booking serve` on the test's database: the document
promises only what the running service does (statuses, bodies, headers, methods)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from booking.core.tokens import derive_token
from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.practice import Practice, manage_token
from tests.integration.test_serve import SECRET, serving

CONFIG = Path(__file__).with_name("schemathesis.toml")
# The whole run's budget; the test as a whole stays within about a minute and a half.
SECONDS = int(os.environ.get("SCHEMATHESIS_SECONDS", "45"))
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261202")
# Far above what the run sends in a minute: the limit itself is proven in test_rate_limit.py.
UNTHROTTLED = {"RATE_LIMIT_PER_MINUTE": "1000000"}


def dictionaries(manage: str, partner: str) -> str:
    """Config binding the practice's real slugs and a booking's real links to the parameters
    that name them, half the time, so requests reach past the 404 of an unknown link."""
    values = {
        "managed": [manage],
        "partner": [partner],
        "therapist": ["ana"],
        "kind": ["consult"],
    }
    bindings = {
        "path.manage_token": "managed",
        "path.partner_token": "partner",
        "path.slug": "therapist",
        "query.therapist": "therapist",
        "query.consultation_type": "kind",
    }
    lines = [f'[dictionaries.{name}]\nvalues = ["{v[0]}"]\n' for name, v in values.items()]
    lines.append("[parameters]")
    lines += [
        f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}'
        for key, name in bindings.items()
    ]
    return "\n".join(lines) + "\n"


async def book_twice(base_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two couples' bookings, of the first and the last open time of the next two weeks."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        times = await http.get(
            "/api/v1/availability", params={"consultation_type": "consult", "therapist": "ana"}
        )
        slots = times.json()["slots"]
        booked = []
        for slot, couple in ((slots[0], "park"), (slots[-1], "lee")):
            partners = [
                {"name": "Robin", "email": f"robin@{couple}.example.org"},
                {"name": "Sam", "email": f"sam@{couple}.example.org"},
            ]
            body = booking_request(slot["start"], partners=partners)
            created = await http.post("/api/v1/bookings", json=body)
            assert created.status_code == 201, created.text
            booked.append(created.json())
    return booked[0], booked[1]


async def test_schemathesis_finds_nothing_the_document_does_not_promise(
    database: Database, practice: Practice, tmp_path: Path
) -> None:
    async with serving(database, tmp_path, **UNTHROTTLED) as base_url:
        # Two bookings: the run may cancel the first by its manage link, which ends its intake
        # links too, so the partner's link comes from the second.
        managed, answered = await book_twice(base_url)
        partner = derive_token(SECRET, "intake", f"{answered['reference']}:2", 0)
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            CONFIG.read_text() + dictionaries(manage_token(managed["manage_url"]), partner)
        )
        started = time.monotonic()
        run = await asyncio.create_subprocess_exec(
            *(str(Path(sys.executable).with_name("st")), "--config-file", str(config), "run"),
            *(f"{base_url}/schema/openapi.json", "--max-time", str(SECONDS), "--seed", SEED),
            # One worker: schemathesis's threads can trip CPython 3.11's "AST constructor
            # recursion depth mismatch" (a race in the compiler), an error of the tool, not ours.
            *("--no-color", "--workers", "1", "--report-dir", str(tmp_path / "report")),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,
        )
        output, _ = await run.communicate()
        elapsed = time.monotonic() - started

    report = output.decode()
    assert run.returncode == 0, report
    selected = re.search(r"Selected: (\d+)/(\d+)", report)
    tested = re.search(r"Tested: (\d+)", report)
    assert selected, report
    assert tested, report
    # Every operation of the document was exercised: none left out, none skipped.
    assert selected[1] == selected[2] == tested[1], report
    print(f"schemathesis: {tested[1]} operations in {elapsed:.1f} s")
