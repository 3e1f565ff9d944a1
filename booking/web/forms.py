"""Form plumbing the pages share: what was posted, what to show again, what needs a look.

Forms post the API's field names (`answers.trust_in_care`, `partners[0].email`), so the
services' field errors land on the inputs they name without a translation table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Request

from booking.core.errors import FieldError
from booking.intake.consents import Consent, load_consents
from booking.intake.questionnaire import Question

FormValues = dict[str, list[str]]
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def field_id(name: str) -> str:
    """The HTML id of the input for field `name`: `partners[0].email` -> `f-partners-0-email`."""
    return "f-" + _ID_UNSAFE.sub("-", name).strip("-")


@dataclass(frozen=True, slots=True)
class SummaryItem:
    message: str
    href: str | None


@dataclass(frozen=True, slots=True)
class FormState:
    """What the person typed and what needs another look, for re-rendering a form."""

    values: Mapping[str, list[str]] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    summary: Sequence[SummaryItem] = ()

    @classmethod
    def failed(
        cls, values: FormValues, problems: Iterable[FieldError], labels: Mapping[str, str]
    ) -> FormState:
        """The form again with `problems`: fields on the form are linked, others just listed."""
        errors: dict[str, str] = {}
        summary: list[SummaryItem] = []
        for problem in problems:
            if problem.field in errors:
                continue
            label = labels.get(problem.field)
            if label is None:
                summary.append(SummaryItem(problem.message, None))
                continue
            errors[problem.field] = problem.message
            # "How long ...? Please answer." reads better than "How long ...?: Please answer."
            joiner = " " if label.endswith(("?", ".")) else ": "
            summary.append(
                SummaryItem(f"{label}{joiner}{problem.message}", f"#{field_id(problem.field)}")
            )
        return cls(values, errors, summary)

    def id(self, name: str) -> str:
        return field_id(name)

    def value(self, name: str) -> str:
        given = self.values.get(name)
        return given[0] if given else ""

    def chosen(self, name: str, option: object) -> bool:
        return str(option) in self.values.get(name, [])

    def error(self, name: str) -> str | None:
        return self.errors.get(name)


async def form_values(request: Request[Any, Any, Any]) -> FormValues:
    """The posted form as {name: [values]}, text values only."""
    form = await request.form()
    return {
        key: [value for value in form.getall(key) if isinstance(value, str)]
        for key in form.keys()  # noqa: SIM118 (a multi-dict: iterating it yields pairs)
    }


def first(values: Mapping[str, list[str]], name: str) -> str:
    given = values.get(name)
    return given[0] if given else ""


def answers_from_form(
    values: Mapping[str, list[str]], questions: Iterable[Question], prefix: str
) -> dict[str, Any]:
    """Answers keyed by question id, typed as the API takes them; empty answers are left out.

    A scale that is not a whole number is passed on as text, for the service to refuse.
    """
    answers: dict[str, Any] = {}
    for question in questions:
        name = f"{prefix}.{question.id}"
        if question.type == "multiple_choice":
            chosen = [v for v in values.get(name, []) if v]
            if chosen:
                answers[question.id] = chosen
            continue
        raw = first(values, name)
        if not raw.strip():
            continue
        if question.type == "scale":
            try:
                answers[question.id] = int(raw.strip())
            except ValueError:
                answers[question.id] = raw
            continue
        answers[question.id] = raw
    return answers


def consents_from_form(
    values: Mapping[str, list[str]], prefix: str = "consents"
) -> dict[str, bool]:
    return {cid: "yes" in values.get(f"{prefix}.{cid}", []) for cid in load_consents()}


def question_labels(questions: Iterable[Question], prefix: str) -> dict[str, str]:
    return {f"{prefix}.{q.id}": q.label for q in questions}


def consent_labels(prefix: str = "consents") -> dict[str, str]:
    return {f"{prefix}.{c.id}": c.title for c in load_consents().values()}


def consents() -> list[Consent]:
    return list(load_consents().values())
