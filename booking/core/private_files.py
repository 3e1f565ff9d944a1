"""Files only the service's own user may read: the data directory, its secrets, the SQLite file.

Each is created with its final mode from the start (never created readable and narrowed
afterwards), whatever the process's umask, so there is no moment when another user of the
machine could open it. Files and directories that already exist are left as they are.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> None:
    """Create `path` (mode 0700) if it is missing; missing parents get the usual mode."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=DIRECTORY_MODE)
    except FileExistsError:
        return  # another process made it first: its mode is its creator's choice
    # mkdir's mode is narrowed by the umask, never widened; this makes it exactly 0700.
    os.chmod(path, DIRECTORY_MODE)


def private_empty_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if it is missing (an existing file is untouched)."""
    private_directory(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def read_or_create_secret(path: Path, generate: Callable[[], str]) -> tuple[str, bool]:
    """The secret in `path`, or a new one from `generate` written there (mode 0600).

    Returns the secret and whether this call created it. Processes starting together agree:
    the new secret is written aside and linked into place, which fails if the name exists, so
    the loser reads the winner's secret instead of replacing it.
    """
    if path.exists():
        return path.read_text().strip(), False
    private_directory(path.parent)
    # mkstemp opens with O_CREAT | O_EXCL and mode 0600.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    created = False
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w") as file:
            file.write(generate() + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
            created = True
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    return path.read_text().strip(), created
