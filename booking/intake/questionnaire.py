"""The intake questionnaire as data: loading, the public shape, answer checks, the safety flag.

Pure: no database, no HTTP. A questionnaire is one JSON file per version in `questionnaires/`;
every `*.json` file there is a published version and the current one is the latest `published`
date, so publishing a version is adding a file. Files are read and checked once per process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from os import PathLike
from pathlib import Path
from types import MappingProxyType

import msgspec
from msgspec import Struct

from booking.core.errors import FieldError, ValidationFailed
from booking.core.timezones import ANSWER_DATES
from booking.intake.datafiles import IntakeFileError, raise_problems, read_data_file

QUESTIONNAIRES = Path(__file__).parent / "questionnaires"

COUPLE = "couple"
EACH_PARTNER = "each_partner"
AUDIENCES = (COUPLE, EACH_PARTNER)

TEXT_TYPES = ("text", "long_text")
CHOICE_TYPES = ("single_choice", "multiple_choice", "yes_no")
QUESTION_TYPES = (*TEXT_TYPES, *CHOICE_TYPES, "scale", "date")
DEFAULT_MAX_LENGTH = {"text": 500, "long_text": 4000}

QUESTION_ID = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class UnknownQuestionnaire(LookupError):
    """No questionnaire has the version asked for (or none is published at all)."""


# --- the questionnaire -----------------------------------------------------------------------


class Option(Struct, frozen=True, forbid_unknown_fields=True):
    value: str
    label: str


class Question(Struct, frozen=True, forbid_unknown_fields=True):
    """One question; `safe_answers`, when set, makes it a safety question (never shown)."""

    id: str
    type: str
    label: str
    required: bool
    help: str | None = None
    options: tuple[Option, ...] = ()
    min: int | None = None
    max: int | None = None
    max_length: int | None = None
    safe_answers: tuple[str, ...] | None = None

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options)

    def to_public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": self.type,
            "label": self.label,
            "help": self.help,
            "required": self.required,
            "options": [{"value": o.value, "label": o.label} for o in self.options],
            "min": self.min,
            "max": self.max,
            "max_length": self.max_length,
        }


class Section(Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    title: str
    audience: str
    private: bool
    questions: tuple[Question, ...]
    intro: str | None = None

    def to_public(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "intro": self.intro,
            "audience": self.audience,
            "private": self.private,
            "questions": [question.to_public() for question in self.questions],
        }


class Questionnaire(Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    published: date
    sections: tuple[Section, ...]

    def sections_for(self, audience: str) -> tuple[Section, ...]:
        """The sections answered by `audience` ("couple" or "each_partner"), in order."""
        _check_audience(audience)
        return tuple(s for s in self.sections if s.audience == audience)

    def questions_for(self, audience: str) -> tuple[Question, ...]:
        return tuple(q for s in self.sections_for(audience) for q in s.questions)

    def to_public(self, audience: str | None = None) -> dict[str, object]:
        """The API shape (api.md, "Intake questionnaire"); the safety scoring rule is left out."""
        sections = self.sections if audience is None else self.sections_for(audience)
        return {
            "version": self.version,
            "published": self.published.isoformat(),
            "sections": [section.to_public() for section in sections],
        }


def load_questionnaire(
    version: str | None = None, folder: str | PathLike[str] | None = None
) -> Questionnaire:
    """The questionnaire `version`, or the current one; raises UnknownQuestionnaire.

    `folder` defaults to the shipped `questionnaires/`; every file in it is checked on first use.
    """
    catalogue = _catalogue(Path(folder) if folder is not None else QUESTIONNAIRES)
    if version is None:
        if catalogue.current is None:
            raise UnknownQuestionnaire(f"No questionnaire is published in {catalogue.folder}.")
        return catalogue.current
    try:
        return catalogue.versions[version]
    except KeyError:
        raise UnknownQuestionnaire(f"There is no questionnaire version {version!r}.") from None


@dataclass(frozen=True, slots=True)
class _Catalogue:
    folder: Path
    versions: Mapping[str, Questionnaire]
    current: Questionnaire | None


@cache
def _catalogue(folder: Path) -> _Catalogue:
    versions: dict[str, Questionnaire] = {}
    for path in sorted(folder.glob("*.json")):
        questionnaire = read_data_file(path, Questionnaire)
        raise_problems(path, _structure_problems(questionnaire, path))
        versions[questionnaire.version] = _with_default_lengths(questionnaire)
    latest = sorted(versions.values(), key=lambda q: q.published)[-2:]
    if len(latest) == 2 and latest[0].published == latest[1].published:
        raise IntakeFileError(
            f"{folder}: {latest[0].version!r} and {latest[1].version!r} are both published on "
            f"{latest[1].published}; the current version must have the latest date of all."
        )
    return _Catalogue(folder, MappingProxyType(versions), latest[-1] if latest else None)


def _structure_problems(questionnaire: Questionnaire, path: Path) -> list[str]:
    problems: list[str] = []
    if questionnaire.version != path.stem:
        problems.append(f"version {questionnaire.version!r} differs from the file name")
    if not questionnaire.sections:
        problems.append("there are no sections")
    seen_sections: set[str] = set()
    seen_questions: set[str] = set()
    for section in questionnaire.sections:
        where = f"section {section.id!r}"
        if section.id in seen_sections:
            problems.append(f"{where}: the id is used twice")
        seen_sections.add(section.id)
        if section.audience not in AUDIENCES:
            problems.append(f"{where}: audience must be one of {', '.join(AUDIENCES)}")
        if not section.questions:
            problems.append(f"{where}: there are no questions")
        for question in section.questions:
            if question.safe_answers is not None and section.audience != EACH_PARTNER:
                problems.append(f"question {question.id!r}: safety questions are each_partner")
            if question.id in seen_questions:
                problems.append(f"question {question.id!r}: the id is used twice")
            seen_questions.add(question.id)
            problems.extend(f"question {question.id!r}: {p}" for p in _question_problems(question))
    return problems


def _question_problems(q: Question) -> list[str]:
    problems: list[str] = []
    if not QUESTION_ID.fullmatch(q.id):
        problems.append("the id must be snake_case")
    if q.type not in QUESTION_TYPES:
        return [*problems, f"unknown type {q.type!r} (one of {', '.join(QUESTION_TYPES)})"]
    values = q.option_values
    if q.type in CHOICE_TYPES:
        if not q.options:
            problems.append(f"a {q.type} question needs options")
        if len(set(values)) != len(values):
            problems.append("two options share a value")
        if q.type == "yes_no" and sorted(values) != ["no", "yes"]:
            problems.append("a yes_no question has exactly the options 'yes' and 'no'")
    elif q.options:
        problems.append(f"a {q.type} question has no options")
    if q.type == "scale":
        if q.min is None or q.max is None:
            problems.append("a scale question needs min and max")
        elif q.min >= q.max:
            problems.append("min must be below max")
    elif q.min is not None or q.max is not None:
        problems.append(f"a {q.type} question has no min or max")
    if q.max_length is not None and (q.type not in TEXT_TYPES or q.max_length < 1):
        problems.append("max_length is a positive number, for text questions only")
    if q.safe_answers is not None:
        if q.type not in CHOICE_TYPES:
            problems.append("safe_answers are for choice questions only")
        elif not q.safe_answers or not set(q.safe_answers) <= set(values):
            problems.append("safe_answers must be some of the question's option values")
    return problems


def _with_default_lengths(questionnaire: Questionnaire) -> Questionnaire:
    def with_default(q: Question) -> Question:
        if q.type in DEFAULT_MAX_LENGTH and q.max_length is None:
            return msgspec.structs.replace(q, max_length=DEFAULT_MAX_LENGTH[q.type])
        return q

    sections = tuple(
        msgspec.structs.replace(s, questions=tuple(with_default(q) for q in s.questions))
        for s in questionnaire.sections
    )
    return msgspec.structs.replace(questionnaire, sections=sections)


def _check_audience(audience: str) -> None:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")


# --- answers ---------------------------------------------------------------------------------


class _Refused(Exception):
    """An answer is not acceptable; the message is shown to the client and quotes nothing."""


def validate_answers(
    questionnaire: Questionnaire, audience: str, answers: object, field_prefix: str
) -> dict[str, object]:
    """The cleaned answers to `audience`'s sections (answered questions only, strings stripped).

    Raises one ValidationFailed naming every problem as `<field_prefix>.<question id>`. Messages
    never repeat a submitted value: answers are private.
    """
    questions = questionnaire.questions_for(audience)
    if not isinstance(answers, dict):
        raise ValidationFailed.on(field_prefix, "The answers must be an object keyed by question.")
    problems: list[FieldError] = []
    cleaned: dict[str, object] = {}
    for question in questions:
        value = answers.get(question.id)
        if _unanswered(value):
            if question.required:
                problems.append(
                    FieldError(f"{field_prefix}.{question.id}", "Please answer this question.")
                )
            continue
        try:
            cleaned[question.id] = _clean(question, value)
        except _Refused as refused:
            problems.append(FieldError(f"{field_prefix}.{question.id}", str(refused)))
    known = {question.id for question in questions}
    problems += [
        FieldError(
            unknown_key_field(field_prefix, key), "This is not a question in this questionnaire."
        )
        for key in answers
        if key not in known
    ]
    if problems:
        raise ValidationFailed("Some answers need another look.", problems)
    return cleaned


def unknown_key_field(field_prefix: str, key: object) -> str:
    """The field naming an unexpected key, which is quoted only when it looks like an id.

    Anything else might be an answer pasted in the wrong place.
    """
    looks_like_id = isinstance(key, str) and len(key) <= 64 and QUESTION_ID.fullmatch(key)
    return f"{field_prefix}.{key}" if looks_like_id else field_prefix


def _unanswered(value: object) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _clean(question: Question, value: object) -> object:
    kind = question.type
    if kind in TEXT_TYPES:
        if not isinstance(value, str):
            raise _Refused("Please answer in words.")
        text = value.strip()
        limit = question.max_length or DEFAULT_MAX_LENGTH[kind]
        if len(text) > limit:
            raise _Refused(f"Please keep this to {limit} characters or fewer.")
        return text
    if kind == "yes_no":
        if value not in question.option_values:
            raise _Refused("Please answer yes or no.")
        return value
    if kind == "single_choice":
        if not isinstance(value, str) or value not in question.option_values:
            raise _Refused("Please choose one of the options offered.")
        return value
    if kind == "multiple_choice":
        if not isinstance(value, list):
            raise _Refused("Please give the options you chose as a list.")
        if not all(isinstance(v, str) and v in question.option_values for v in value):
            raise _Refused("Please choose only among the options offered.")
        if len(set(value)) != len(value):
            raise _Refused("Please choose each option only once.")
        return [v for v in question.option_values if v in value]
    if kind == "scale":
        if question.min is None or question.max is None:  # loading refuses a scale without them
            raise RuntimeError(f"scale question {question.id!r} has no bounds")
        # JSON does not tell 5 from 5.0 (nor does JSON Schema's "integer"): both are five.
        if type(value) is float and value.is_integer():
            value = int(value)
        if type(value) is not int or not question.min <= value <= question.max:
            raise _Refused(f"Please choose a whole number from {question.min} to {question.max}.")
        return value
    if kind == "date":
        if not isinstance(value, str) or not ISO_DATE.fullmatch(value.strip()):
            raise _Refused("Please give a date written as YYYY-MM-DD.")
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise _Refused("Please give a date that exists, written as YYYY-MM-DD.") from None
        if day not in ANSWER_DATES:
            raise _Refused(ANSWER_DATES.message)
        return day.isoformat()
    raise AssertionError(f"unchecked question type {kind!r}")  # loading refuses other types


def raises_safety_flag(questionnaire: Questionnaire, answers: Mapping[str, object]) -> bool:
    """Whether one partner's answers call for a safety follow-up.

    True when a safety question (one with `safe_answers`) has an answer outside them, or a
    required safety question is unanswered.
    """
    for question in questionnaire.questions_for(EACH_PARTNER):
        if question.safe_answers is None:
            continue
        value = answers.get(question.id)
        if _unanswered(value):
            if question.required:
                return True
            continue
        chosen = value if isinstance(value, list) else [value]
        if any(v not in question.safe_answers for v in chosen):
            return True
    return False
