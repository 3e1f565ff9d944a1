"""A Python client generated from the served document by openapi-python-client: it builds
without a warning, and reads what the running service answers, its errors as the error model."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from tests.factories import booking_request
from tests.fixtures.databases import Database
from tests.integration.practice import Practice
from tests.integration.test_serve import serving

BIN = Path(sys.executable).parent


async def generate_client(base_url: str, folder: Path) -> str:
    """Generates the client of the service at `base_url` into `folder`; the package's name."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        document = await http.get("/schema/openapi.json")
    assert document.status_code == 200
    (folder / "openapi.json").write_bytes(document.content)
    package = f"booking_client_{uuid.uuid4().hex[:8]}"
    generator = await asyncio.create_subprocess_exec(
        *(str(BIN / "openapi-python-client"), "generate", "--path", "openapi.json"),
        *("--meta", "none", "--output-path", package),
        cwd=folder,
        # Its formatting step runs ruff, which it looks for on the PATH.
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await generator.communicate())[0].decode()
    assert generator.returncode == 0, output
    assert output.split() == ["Generating", package], output  # nothing else: no warning
    return package


def module(package: str, name: str) -> Any:
    found: ModuleType = importlib.import_module(f"{package}.{name}")
    return found


async def test_a_generated_client_reads_answers_and_errors_as_the_error_model(
    database: Database, practice: Practice, tmp_path: Path
) -> None:
    async with serving(database, tmp_path) as base_url:
        package = await generate_client(base_url, tmp_path)
        sys.path.insert(0, str(tmp_path))
        try:
            api = module(package, "client").Client(base_url=base_url)
            models = module(package, "models")
            therapist = module(package, "api.directory.api_v1_therapists_slug_therapist")
            availability = module(package, "api.availability.api_v1_availability_availability")
            create = module(package, "api.bookings.api_v1_bookings_create")

            found = await therapist.asyncio_detailed("ana", client=api)
            unknown = await therapist.asyncio_detailed("nobody-here", client=api)
            malformed = await availability.asyncio_detailed(
                client=api, consultation_type="consult", start="next week"
            )
            times = await availability.asyncio_detailed(
                client=api, consultation_type="consult", therapist="ana"
            )
            body = models.BookingIn.from_dict(booking_request(times.parsed.slots[0].start))
            booked = await create.asyncio_detailed(client=api, body=body)
            taken = await create.asyncio_detailed(client=api, body=body)
        finally:
            sys.path.remove(str(tmp_path))

    assert found.status_code == 200
    assert isinstance(found.parsed, models.TherapistOut)
    assert found.parsed.slug == "ana"

    assert unknown.status_code == 404
    assert isinstance(unknown.parsed, models.ErrorBody)
    assert unknown.parsed.error.code == "not_found"

    assert malformed.status_code == 422
    assert isinstance(malformed.parsed, models.ErrorBody)
    assert malformed.parsed.error.code == "validation_error"
    assert [f.field for f in malformed.parsed.error.fields] == ["start"]

    assert booked.status_code == 201
    assert isinstance(booked.parsed, models.BookingCreated)
    assert booked.parsed.status == "confirmed"
    assert taken.status_code == 409
    assert isinstance(taken.parsed, models.ErrorBody)
    assert taken.parsed.error.code == "slot_unavailable"
