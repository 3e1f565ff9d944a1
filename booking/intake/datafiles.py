"""Reading the intake's data files (questionnaires, consents, support) with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import msgspec
from msgspec import Struct

T = TypeVar("T")


class IntakeFileError(ValueError):
    """An intake data file is missing or malformed; the message names the file and the item."""


def read_data_file(path: Path, shape: type[T]) -> T:
    """`path`'s JSON decoded into `shape`, strictly (unknown fields and wrong types refused)."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=shape, strict=True)
    except OSError as exc:
        raise IntakeFileError(f"{path}: cannot be read ({exc.strerror}).") from None
    except msgspec.DecodeError as exc:
        raise IntakeFileError(f"{path}: {exc}") from None


def has_blank_text(struct: Struct) -> bool:
    """Whether any text field of `struct` is empty or only spaces."""
    values = msgspec.structs.astuple(struct)
    return any(isinstance(value, str) and not value.strip() for value in values)


def raise_problems(path: Path, problems: list[str]) -> None:
    """Raise IntakeFileError listing every problem found in `path`, if there is any."""
    if problems:
        raise IntakeFileError(f"{path} is not valid:\n  - " + "\n  - ".join(problems))
