"""The intake questionnaire (booking.intake.questionnaire): loading, public shape, answers, flag."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from booking.core.errors import ValidationFailed
from booking.intake.datafiles import IntakeFileError
from booking.intake.questionnaire import (
    COUPLE,
    EACH_PARTNER,
    QUESTIONNAIRES,
    Questionnaire,
    UnknownQuestionnaire,
    load_questionnaire,
    raises_safety_flag,
    validate_answers,
)
from tests.factories import couple_answers, partner_answers

SECRET = "ZEBRA-42-SECRET"
SHIPPED = "couples-2026-1"


# --- factories -------------------------------------------------------------------------------


def question(id: str, type: str, **extra: object) -> dict[str, object]:
    return {"id": id, "type": type, "label": f"The {id} question", "required": False, **extra}


YES_NO = [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]


def write_questionnaire(
    folder: Path,
    version: str = "test-1",
    published: str = "2026-01-01",
    questions: list[dict[str, object]] | None = None,
) -> Path:
    body = {
        "version": version,
        "published": published,
        "sections": [
            {
                "id": "only",
                "title": "Only section",
                "audience": "each_partner",
                "private": True,
                "questions": questions or [question("first", "text")],
            }
        ],
    }
    path = folder / f"{version}.json"
    path.write_text(json.dumps(body))
    return path


def with_one_question(tmp_path: Path, **spec: Any) -> Questionnaire:
    write_questionnaire(tmp_path, questions=[question("answer", **spec)])
    return load_questionnaire(folder=tmp_path)


def problems_of(raised: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {f.field: f.message for f in raised.value.fields}


def refuse_partner(**changes: object) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as raised:
        validate_answers(load_questionnaire(), EACH_PARTNER, partner_answers(**changes), "intake")
    return problems_of(raised)


def refuse_couple(**changes: object) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as raised:
        validate_answers(load_questionnaire(), COUPLE, couple_answers(**changes), "intake.couple")
    return problems_of(raised)


# --- the shipped questionnaire ---------------------------------------------------------------


def test_shipped_questionnaire_is_current_and_inside_the_package() -> None:
    current = load_questionnaire()

    assert current.version == SHIPPED
    assert current.published.isoformat() == "2026-11-01"
    packaged = resources.files("booking.intake") / "questionnaires" / f"{SHIPPED}.json"
    assert packaged.is_file()
    assert Path(str(packaged)).parent == QUESTIONNAIRES


def test_shipped_questionnaire_has_the_three_sections_for_their_audiences() -> None:
    current = load_questionnaire()

    assert [(s.id, s.audience, s.private) for s in current.sections] == [
        ("relationship", "couple", False),
        ("own_view", "each_partner", True),
        ("safety", "each_partner", True),
    ]
    required = {q.id for s in current.sections for q in s.questions if q.required}
    assert required == {
        "hoped_for_help",
        "trust_in_care",
        "communication_satisfaction",
        "safe_at_home",
        "harmed_past_year",
    }


def test_public_shape_matches_the_api_contract() -> None:
    public = load_questionnaire().to_public()

    assert public["version"] == SHIPPED
    json.dumps(public)  # serialisable as it stands
    sections: Any = public["sections"]
    for section in sections:
        assert {"id", "title", "audience", "private", "questions"} <= section.keys()
        assert section["audience"] in ("couple", "each_partner")
        for q in section["questions"]:
            assert {"id", "type", "label", "required", "options", "min", "max"} <= q.keys()
            assert all(option.keys() == {"value", "label"} for option in q["options"])
    scale = next(q for s in sections for q in s["questions"] if q["id"] == "trust_in_care")
    assert (scale["type"], scale["min"], scale["max"]) == ("scale", 0, 10)


def test_public_shape_never_shows_which_answers_are_safe() -> None:
    assert "safe_answers" not in json.dumps(load_questionnaire().to_public())


def test_public_shape_for_one_audience_has_only_its_sections() -> None:
    public: Any = load_questionnaire().to_public(EACH_PARTNER)

    assert [s["id"] for s in public["sections"]] == ["own_view", "safety"]


def test_text_questions_carry_their_default_length_limit() -> None:
    questions = {q.id: q for s in load_questionnaire().sections for q in s.questions}

    assert questions["suitable_times"].max_length == 500
    assert questions["hoped_for_help"].max_length == 4000


# --- versions --------------------------------------------------------------------------------


def test_a_new_version_file_becomes_current_and_the_old_one_stays_readable(
    tmp_path: Path,
) -> None:
    shipped = QUESTIONNAIRES / f"{SHIPPED}.json"
    (tmp_path / shipped.name).write_bytes(shipped.read_bytes())
    write_questionnaire(tmp_path, version="couples-2027-1", published="2027-03-01")

    assert load_questionnaire(folder=tmp_path).version == "couples-2027-1"
    assert load_questionnaire(SHIPPED, folder=tmp_path).version == SHIPPED


def test_unknown_version_is_a_lookup_error() -> None:
    with pytest.raises(UnknownQuestionnaire, match="nope-1"):
        load_questionnaire("nope-1")
    assert issubclass(UnknownQuestionnaire, LookupError)


def test_an_empty_folder_has_no_current_questionnaire(tmp_path: Path) -> None:
    with pytest.raises(UnknownQuestionnaire):
        load_questionnaire(folder=tmp_path)


def test_questionnaires_are_read_once() -> None:
    assert load_questionnaire() is load_questionnaire()


def test_two_versions_published_the_same_day_are_refused(tmp_path: Path) -> None:
    write_questionnaire(tmp_path, version="a-1", published="2026-05-01")
    write_questionnaire(tmp_path, version="b-1", published="2026-05-01")

    with pytest.raises(IntakeFileError, match="both published"):
        load_questionnaire(folder=tmp_path)


# --- malformed files -------------------------------------------------------------------------


def refused_file(tmp_path: Path, questions: list[dict[str, object]]) -> str:
    write_questionnaire(tmp_path, questions=questions)
    with pytest.raises(IntakeFileError) as raised:
        load_questionnaire(folder=tmp_path)
    message = str(raised.value)
    assert "test-1.json" in message
    return message


def test_file_with_an_unknown_question_type_is_refused(tmp_path: Path) -> None:
    message = refused_file(tmp_path, [question("mood", "slider")])

    assert "question 'mood'" in message
    assert "unknown type 'slider'" in message


def test_file_with_a_duplicate_question_id_is_refused(tmp_path: Path) -> None:
    message = refused_file(tmp_path, [question("mood", "text"), question("mood", "long_text")])

    assert "question 'mood': the id is used twice" in message


def test_file_with_a_choice_question_without_options_is_refused(tmp_path: Path) -> None:
    message = refused_file(tmp_path, [question("colour", "single_choice")])

    assert "question 'colour': a single_choice question needs options" in message


def test_file_with_a_scale_without_bounds_is_refused(tmp_path: Path) -> None:
    message = refused_file(tmp_path, [question("level", "scale", min=0)])

    assert "question 'level': a scale question needs min and max" in message


def test_file_with_safe_answers_outside_the_options_is_refused(tmp_path: Path) -> None:
    message = refused_file(
        tmp_path, [question("safe", "yes_no", options=YES_NO, safe_answers=["maybe"])]
    )

    assert "question 'safe': safe_answers must be some of the question's option values" in message


def test_file_with_a_wrongly_typed_field_is_refused_with_its_location(tmp_path: Path) -> None:
    message = refused_file(tmp_path, [question("mood", "text", required="yes")])

    assert "questions[0].required" in message


def test_file_names_every_problem_at_once(tmp_path: Path) -> None:
    message = refused_file(
        tmp_path, [question("Bad Id", "text"), question("colour", "multiple_choice")]
    )

    assert "question 'Bad Id': the id must be snake_case" in message
    assert "question 'colour': a multiple_choice question needs options" in message


# --- answers ---------------------------------------------------------------------------------


def test_valid_answers_come_back_cleaned() -> None:
    cleaned = validate_answers(
        load_questionnaire(),
        COUPLE,
        couple_answers(hoped_for_help="  Listening better.\n", suitable_times=None),
        "intake.couple",
    )

    assert cleaned["hoped_for_help"] == "Listening better."
    assert "suitable_times" not in cleaned
    assert cleaned["living_together"] == "yes"


def test_answers_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_answers(load_questionnaire(), COUPLE, ["no"], "intake.couple")

    assert list(problems_of(raised)) == ["intake.couple"]


def test_unknown_question_id_is_refused() -> None:
    problems = refuse_couple(favourite_colour="blue")

    assert problems == {
        "intake.couple.favourite_colour": "This is not a question in this questionnaire."
    }


def test_another_audiences_question_is_refused_as_unknown() -> None:
    problems = refuse_couple(safe_at_home="yes")

    assert list(problems) == ["intake.couple.safe_at_home"]


def test_missing_required_answer_is_refused() -> None:
    answers = partner_answers()
    del answers["trust_in_care"]

    with pytest.raises(ValidationFailed) as raised:
        validate_answers(load_questionnaire(), EACH_PARTNER, answers, "intake")

    assert problems_of(raised) == {"intake.trust_in_care": "Please answer this question."}


def test_blank_required_text_counts_as_missing() -> None:
    assert refuse_couple(hoped_for_help="   \n ") == {
        "intake.couple.hoped_for_help": "Please answer this question."
    }


def test_text_answer_must_be_a_string() -> None:
    assert list(refuse_couple(suitable_times=42)) == ["intake.couple.suitable_times"]


def test_text_answer_longer_than_its_limit_is_refused() -> None:
    problems = refuse_couple(suitable_times="x" * 501)

    assert problems == {
        "intake.couple.suitable_times": "Please keep this to 500 characters or fewer."
    }


def test_text_limit_counts_the_stripped_answer() -> None:
    cleaned = validate_answers(
        load_questionnaire(), COUPLE, couple_answers(suitable_times=f"  {'x' * 500}  "), "c"
    )

    assert cleaned["suitable_times"] == "x" * 500


def test_long_text_answer_longer_than_its_limit_is_refused() -> None:
    problems = refuse_couple(hoped_for_help="y" * 4001)

    assert problems == {
        "intake.couple.hoped_for_help": "Please keep this to 4000 characters or fewer."
    }


def test_single_choice_answer_must_be_one_offered_value() -> None:
    assert refuse_couple(preferred_format="carrier_pigeon") == {
        "intake.couple.preferred_format": "Please choose one of the options offered."
    }


def test_single_choice_answer_must_not_be_a_list() -> None:
    assert list(refuse_couple(preferred_format=["video"])) == ["intake.couple.preferred_format"]


def test_multiple_choice_answer_must_be_a_list() -> None:
    assert list(refuse_partner(trust_strains="stress")) == ["intake.trust_strains"]


def test_multiple_choice_answer_must_hold_offered_values_only() -> None:
    assert refuse_partner(trust_strains=["stress", "aliens"]) == {
        "intake.trust_strains": "Please choose only among the options offered."
    }


def test_multiple_choice_answer_must_not_repeat_a_value() -> None:
    assert refuse_partner(trust_strains=["stress", "stress"]) == {
        "intake.trust_strains": "Please choose each option only once."
    }


def test_multiple_choice_answer_comes_back_in_the_questionnaires_order() -> None:
    cleaned = validate_answers(
        load_questionnaire(), EACH_PARTNER, partner_answers(trust_strains=["money", "stress"]), "i"
    )

    assert cleaned["trust_strains"] == ["stress", "money"]


@pytest.mark.parametrize("value", [11, -1, 5.5, 10.5, True, "7"])
def test_scale_answer_must_be_a_whole_number_within_its_range(value: object) -> None:
    assert refuse_partner(trust_in_care=value) == {
        "intake.trust_in_care": "Please choose a whole number from 0 to 10."
    }


def test_scale_answer_written_with_a_zero_fraction_is_that_whole_number() -> None:
    # JSON (and the OpenAPI document's "integer") does not tell 5 from 5.0.
    cleaned = validate_answers(
        load_questionnaire(), EACH_PARTNER, partner_answers(trust_in_care=5.0), "intake"
    )

    assert cleaned["trust_in_care"] == 5
    assert type(cleaned["trust_in_care"]) is int


def test_scale_answer_may_be_either_end_of_its_range() -> None:
    cleaned = validate_answers(
        load_questionnaire(),
        EACH_PARTNER,
        partner_answers(trust_in_care=0, communication_satisfaction=10),
        "intake",
    )

    assert (cleaned["trust_in_care"], cleaned["communication_satisfaction"]) == (0, 10)


@pytest.mark.parametrize("value", [True, "true", "Yes", "maybe"])
def test_yes_no_answer_must_be_yes_or_no(value: object) -> None:
    assert refuse_couple(living_together=value) == {
        "intake.couple.living_together": "Please answer yes or no."
    }


@pytest.mark.parametrize("value", ["2026/05/01", "20260501", "2026-02-30", "1 May 2026", 20260501])
def test_date_answer_must_be_a_real_date_written_yyyy_mm_dd(tmp_path: Path, value: object) -> None:
    dated = with_one_question(tmp_path, type="date")

    with pytest.raises(ValidationFailed) as raised:
        validate_answers(dated, EACH_PARTNER, {"answer": value}, "intake")

    assert list(problems_of(raised)) == ["intake.answer"]


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_date_answer_must_fall_between_1900_and_2200(tmp_path: Path, value: str) -> None:
    dated = with_one_question(tmp_path, type="date")

    with pytest.raises(ValidationFailed) as raised:
        validate_answers(dated, EACH_PARTNER, {"answer": value}, "intake")

    assert problems_of(raised) == {"intake.answer": "Give a date from 1900-01-01 to 2200-12-31."}


@pytest.mark.parametrize("value", ["1900-01-01", "2200-12-31"])
def test_date_answer_on_the_edge_of_the_range_is_kept(tmp_path: Path, value: str) -> None:
    dated = with_one_question(tmp_path, type="date")

    assert validate_answers(dated, EACH_PARTNER, {"answer": value}, "i") == {"answer": value}


def test_date_answer_comes_back_as_an_iso_date(tmp_path: Path) -> None:
    dated = with_one_question(tmp_path, type="date")

    assert validate_answers(dated, EACH_PARTNER, {"answer": " 2026-05-01 "}, "i") == {
        "answer": "2026-05-01"
    }


def test_every_problem_is_reported_at_once() -> None:
    answers = partner_answers(communication_satisfaction=12, turning_toward="always", mystery="x")
    del answers["trust_in_care"]

    with pytest.raises(ValidationFailed) as raised:
        validate_answers(load_questionnaire(), EACH_PARTNER, answers, "intake")

    assert set(problems_of(raised)) == {
        "intake.trust_in_care",
        "intake.communication_satisfaction",
        "intake.turning_toward",
        "intake.mystery",
    }
    assert raised.value.status_code == 422


def test_refusals_never_repeat_a_submitted_value() -> None:
    couple = {key: SECRET for key in couple_answers()}
    partner: dict[str, object] = {key: SECRET for key in partner_answers()}
    partner["habits_to_strengthen"] = [SECRET]
    partner[SECRET] = SECRET  # a key that is not an id might be a misplaced answer too
    partner["hoped_for_change"] = SECRET * 1000

    for audience, answers in ((COUPLE, couple), (EACH_PARTNER, partner)):
        with pytest.raises(ValidationFailed) as raised:
            validate_answers(load_questionnaire(), audience, answers, "intake")
        shown = [raised.value.message, str(raised.value)]
        shown += [text for f in raised.value.fields for text in (f.field, f.message)]
        assert raised.value.fields
        assert not [text for text in shown if SECRET in text]


# --- the safety flag -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("safe_at_home", "harmed_past_year", "flagged"),
    [
        ("yes", "no", False),
        ("no", "no", True),
        ("not_sure", "no", True),
        ("yes", "yes", True),
        ("yes", "prefer_private", True),
        ("no", "yes", True),
        (None, "no", True),
        ("yes", None, True),
        (None, None, True),
    ],
)
def test_safety_flag_is_raised_by_anything_but_a_clear_safe_answer(
    safe_at_home: str | None, harmed_past_year: str | None, flagged: bool
) -> None:
    answers = partner_answers(safe_at_home=safe_at_home, harmed_past_year=harmed_past_year)
    answers = {key: value for key, value in answers.items() if value is not None}

    assert raises_safety_flag(load_questionnaire(), answers) is flagged


def test_safety_flag_ignores_the_optional_private_contact() -> None:
    answers = partner_answers(private_contact="")

    assert raises_safety_flag(load_questionnaire(), answers) is False


def test_validated_answers_can_be_scored_for_the_flag() -> None:
    questionnaire = load_questionnaire()
    cleaned = validate_answers(
        questionnaire, EACH_PARTNER, partner_answers(harmed_past_year="prefer_private"), "i"
    )

    assert raises_safety_flag(questionnaire, cleaned) is True
