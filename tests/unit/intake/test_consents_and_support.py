"""Consents each partner gives, and support shown after a safety flag (booking.intake.consents)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from booking.core.errors import ValidationFailed
from booking.intake.consents import load_consents, load_support, validate_consents
from booking.intake.datafiles import IntakeFileError

ALL_GIVEN = {"purpose": True, "privacy": True, "policy": True, "email": True}


def problems_of(raised: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {f.field: f.message for f in raised.value.fields}


# --- consents --------------------------------------------------------------------------------


def test_the_four_consents_are_shipped_with_versions_and_text() -> None:
    consents = load_consents()

    assert list(consents) == ["purpose", "privacy", "policy", "email"]
    for consent_id, consent in consents.items():
        assert consent.id == consent_id
        assert consent.version == f"{consent_id}-2026-1"
        assert consent.title.strip()
        assert len(consent.text) > 100
    assert (resources.files("booking.intake") / "consents.json").is_file()


def test_policy_consent_states_the_refund_and_reschedule_windows() -> None:
    text = load_consents()["policy"].text

    assert "48 hours" in text
    assert "24 hours" in text


def test_email_consent_says_ordinary_email_is_not_encrypted() -> None:
    assert "not encrypted" in load_consents()["email"].text


def test_all_consents_given_return_their_versions() -> None:
    assert validate_consents(ALL_GIVEN, "consents") == {
        "purpose": "purpose-2026-1",
        "privacy": "privacy-2026-1",
        "policy": "policy-2026-1",
        "email": "email-2026-1",
    }


def test_every_missing_consent_is_named_at_once() -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_consents({"purpose": True, "policy": False}, "consents")

    assert set(problems_of(raised)) == {"consents.privacy", "consents.policy", "consents.email"}
    assert raised.value.message == "Some consents are missing."


@pytest.mark.parametrize("value", ["true", 1, "yes", None, [True]])
def test_a_consent_counts_only_when_it_is_exactly_true(value: object) -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_consents({**ALL_GIVEN, "email": value}, "consents")

    assert problems_of(raised) == {"consents.email": "Please read and agree to this to continue."}


def test_consents_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_consents(True, "consents")

    assert list(problems_of(raised)) == ["consents"]


def test_a_consent_the_practice_does_not_ask_for_is_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        validate_consents({**ALL_GIVEN, "marketing": True}, "consents")

    assert list(problems_of(raised)) == ["consents.marketing"]


# --- support ---------------------------------------------------------------------------------


def test_default_support_lists_the_three_crisis_resources() -> None:
    support = load_support()

    contacts = " ".join(r.contact for r in support.resources)
    assert [r.name for r in support.resources] == [
        "Emergency services",
        "Suicide Crisis Helpline",
        "Assaulted Women's Helpline",
    ]
    for number in ("911", "9-8-8", "1-866-863-0511"):
        assert number in contacts
    assert (resources.files("booking.intake") / "support.json").is_file()


def test_default_support_message_reassures_that_nothing_changes() -> None:
    message = load_support().message

    assert "booking goes ahead" in message
    assert "partner will not see" in message


def test_support_public_shape_matches_the_api_contract() -> None:
    public = load_support().to_public()

    assert public.keys() == {"message", "resources"}
    assert public["resources"] == [
        {"name": r.name, "contact": r.contact} for r in load_support().resources
    ]
    json.dumps(public)


def test_a_practice_can_configure_its_own_support_file(tmp_path: Path) -> None:
    own = tmp_path / "support.json"
    own.write_text(
        json.dumps(
            {
                "message": "We are here for you.",
                "resources": [{"name": "Local line", "contact": "Call 555-0100"}],
            }
        )
    )

    support = load_support(str(own))

    assert support.message == "We are here for you."
    assert [(r.name, r.contact) for r in support.resources] == [("Local line", "Call 555-0100")]


def test_a_malformed_support_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    own = tmp_path / "broken-support.json"
    own.write_text(json.dumps({"message": " ", "resources": [{"name": "Line"}]}))

    with pytest.raises(IntakeFileError, match=r"broken-support\.json"):
        load_support(own)


def test_a_missing_support_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(IntakeFileError, match=r"absent\.json"):
        load_support(tmp_path / "absent.json")
