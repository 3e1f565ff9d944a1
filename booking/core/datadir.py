"""The data directory's generated secrets: written only by the explicit init step.

`booking init` (and the test fixtures) call `initialise`; reading the settings only reads
these files, so starting the service, a worker or a command never writes into the directory.
Production names its secrets in the environment and gets none generated.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from booking.core.crypto import DEVELOPMENT_KEY_ID, Keyring
from booking.core.private_files import private_directory, read_or_create_secret

log = logging.getLogger("booking.core.datadir")

SECRET_KEY_FILE = "secret_key"
DATA_KEY_FILE = "data_key"


@dataclass(frozen=True, slots=True)
class Initialised:
    """What `initialise` found or made: the directory and the secret files it created."""

    data_dir: Path
    created: tuple[str, ...]


def initialise(data_dir: Path, *, secret_key: bool = True, data_key: bool = True) -> Initialised:
    """Create `data_dir` (0700) if missing and, where asked and missing, the development
    signing secret and encryption keyring (0600). Existing files are kept as they are;
    processes initialising at once agree on one secret (`read_or_create_secret`)."""
    private_directory(data_dir)
    created: list[str] = []
    if secret_key:
        _, made = read_or_create_secret(
            data_dir / SECRET_KEY_FILE, lambda: secrets.token_urlsafe(48)
        )
        if made:
            created.append(SECRET_KEY_FILE)
    if data_key:
        path = data_dir / DATA_KEY_FILE
        _, made = read_or_create_secret(
            path, lambda: f"{DEVELOPMENT_KEY_ID}:{Keyring.generate_key()}"
        )
        if made:
            created.append(DATA_KEY_FILE)
            log.warning(
                "Generated a development encryption key in %s. Intake answers encrypted with "
                "it are lost if the file is lost; production must set its own keys.",
                path,
            )
    return Initialised(data_dir, tuple(created))


def read_secret(path: Path) -> str | None:
    """The secret in `path`, or None when there is no such file."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None
