"""The consents each partner gives, and the support shown after a safety flag.

Pure: no database, no HTTP. Both are data files beside this module (`consents.json`,
`support.json`), worded by the practice; a practice may point `load_support` at its own file.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from os import PathLike
from pathlib import Path
from types import MappingProxyType

from msgspec import Struct

from booking.core.errors import FieldError, ValidationFailed
from booking.intake.datafiles import has_blank_text, raise_problems, read_data_file
from booking.intake.questionnaire import unknown_key_field

CONSENTS_FILE = Path(__file__).parent / "consents.json"
SUPPORT_FILE = Path(__file__).parent / "support.json"


# --- consents --------------------------------------------------------------------------------


class Consent(Struct, frozen=True, forbid_unknown_fields=True):
    """One consent each partner gives; `version` is stored with every agreement."""

    id: str
    version: str
    title: str
    text: str


class _ConsentsFile(Struct, frozen=True, forbid_unknown_fields=True):
    consents: tuple[Consent, ...]


@cache
def load_consents() -> Mapping[str, Consent]:
    """The consents every partner gives, by id, in the order they are shown."""
    consents = read_data_file(CONSENTS_FILE, _ConsentsFile).consents
    problems = [] if consents else ["there are no consents"]
    problems += [f"consent {c.id!r}: a field is empty" for c in consents if has_blank_text(c)]
    ids = [c.id for c in consents]
    problems += [
        f"consent {i!r}: the id is used twice" for i in sorted(set(ids)) if ids.count(i) > 1
    ]
    raise_problems(CONSENTS_FILE, problems)
    return MappingProxyType({c.id: c for c in consents})


def validate_consents(consents: object, field_prefix: str) -> dict[str, str]:
    """{consent id: version} when every consent is given as exactly `true`.

    Raises one ValidationFailed naming each missing or refused consent as `<prefix>.<id>`.
    """
    required = load_consents()
    if not isinstance(consents, dict):
        raise ValidationFailed.on(field_prefix, "The consents must be an object keyed by consent.")
    problems = [
        FieldError(f"{field_prefix}.{cid}", "Please read and agree to this to continue.")
        for cid in required
        if consents.get(cid) is not True
    ]
    problems += [
        FieldError(
            unknown_key_field(field_prefix, key), "This is not a consent the practice asks for."
        )
        for key in consents
        if key not in required
    ]
    if problems:
        message = problems[0].message if len(problems) == 1 else "Some consents are missing."
        raise ValidationFailed(message, problems)
    return {cid: consent.version for cid, consent in required.items()}


# --- support after a safety flag -------------------------------------------------------------


class Resource(Struct, frozen=True, forbid_unknown_fields=True):
    name: str
    contact: str


class Support(Struct, frozen=True, forbid_unknown_fields=True):
    """What a partner whose answers raised a safety flag is shown (API: `support`)."""

    message: str
    resources: tuple[Resource, ...]

    def to_public(self) -> dict[str, object]:
        return {
            "message": self.message,
            "resources": [{"name": r.name, "contact": r.contact} for r in self.resources],
        }


def load_support(path: str | PathLike[str] | None = None) -> Support:
    """The support message and resources: the shipped defaults, or a practice's own file."""
    return _load_support(Path(path) if path is not None else SUPPORT_FILE)


@cache
def _load_support(path: Path) -> Support:
    support = read_data_file(path, Support)
    problems = [] if support.message.strip() else ["the message is empty"]
    problems += [
        f"resource {i}: a field is empty"
        for i, r in enumerate(support.resources, start=1)
        if has_blank_text(r)
    ]
    raise_problems(path, problems)
    return support
