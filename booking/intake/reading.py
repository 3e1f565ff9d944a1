"""Answers as staff read them: each question's label beside the answer in words.

Pure: the stored answers (decrypted by the caller) and the questionnaire version they
answered go in, sections of labelled answers come out. A safety question's scoring rule
never leaves this module; the partner's safe way to be reached does, for the safety flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from booking.intake.questionnaire import Question, Questionnaire, Section

NOT_ANSWERED = "Not answered"


@dataclass(frozen=True, slots=True)
class ReadAnswer:
    question_id: str
    label: str
    text: str
    answered: bool


@dataclass(frozen=True, slots=True)
class ReadSection:
    id: str
    title: str
    private: bool
    answers: tuple[ReadAnswer, ...]


def read_answers(
    questionnaire: Questionnaire, audience: str, answers: Mapping[str, object]
) -> tuple[ReadSection, ...]:
    """Every question of `audience`'s sections with its answer in words, in order."""
    return tuple(
        ReadSection(
            section.id,
            section.title,
            section.private,
            tuple(_read(question, answers.get(question.id)) for question in section.questions),
        )
        for section in questionnaire.sections_for(audience)
    )


def safe_contact(questionnaire: Questionnaire, answers: Mapping[str, object]) -> str:
    """What a partner gave as a safe way and time to reach them ("" if nothing): the text
    answers of the sections that hold the safety questions."""
    given = [
        str(answers[q.id]).strip()
        for section in questionnaire.sections
        if _is_safety_section(section)
        for q in section.questions
        if q.type in ("text", "long_text") and isinstance(answers.get(q.id), str)
    ]
    return "\n".join(text for text in given if text)


def _is_safety_section(section: Section) -> bool:
    return any(q.safe_answers is not None for q in section.questions)


def _read(question: Question, value: object) -> ReadAnswer:
    if value is None or value == [] or (isinstance(value, str) and not value.strip()):
        return ReadAnswer(question.id, question.label, NOT_ANSWERED, False)
    labels = {o.value: o.label for o in question.options}
    if isinstance(value, list):
        text = "; ".join(labels.get(str(v), str(v)) for v in value)
    elif question.type == "scale":
        text = f"{value} on a scale of {question.min} to {question.max}"
    elif question.options:
        text = labels.get(str(value), str(value))
    else:
        text = str(value)
    return ReadAnswer(question.id, question.label, text, True)
