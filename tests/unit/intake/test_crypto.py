"""Encryption of intake answers at rest (booking.core.crypto)."""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

import pytest

from booking.core.crypto import (
    DecryptionError,
    Keyring,
    key_id_of,
)
from booking.core.datadir import initialise
from booking.core.settings import Settings

CONTEXT = "intake:B123:partner:1"
KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(100, 132))).decode()


def development_keyring(data_dir: Path) -> Keyring:
    """The init step run on `data_dir` (its keyring only), then the keyring as settings read it."""
    initialise(data_dir, secret_key=False)
    environ = {"BOOKING_DATA_DIR": str(data_dir), "BOOKING_SECRET_KEY": "s" * 40}
    return Settings.from_env(environ).keyring()


def keyring(*entries: str) -> Keyring:
    return Keyring.parse(",".join(entries))


OLD = keyring(f"old:{KEY_A}")
ROTATED = keyring(f"new:{KEY_B}", f"old:{KEY_A}")


# --- encrypting and decrypting ---------------------------------------------------------------


def test_encrypted_bytes_decrypt_with_the_same_context() -> None:
    token = OLD.encrypt(b"we argue about money", CONTEXT)

    assert OLD.decrypt(token, CONTEXT) == b"we argue about money"


def test_token_names_its_key_and_hides_the_plaintext() -> None:
    token = OLD.encrypt(b"we argue about money", CONTEXT)

    assert token.startswith("old$")
    assert key_id_of(token) == "old"
    assert "money" not in token
    assert base64.urlsafe_b64decode(token.removeprefix("old$"))  # urlsafe base64 after the id


def test_each_encryption_uses_a_fresh_nonce() -> None:
    assert OLD.encrypt(b"same", CONTEXT) != OLD.encrypt(b"same", CONTEXT)


def test_json_round_trip_is_compact_utf8() -> None:
    answers = {"hoped_for_help": "Être écoutée 💬", "trust_in_care": 7, "trust_strains": ["money"]}

    token = OLD.encrypt_json(answers, CONTEXT)

    assert OLD.decrypt_json(token, CONTEXT) == answers
    assert (
        OLD.decrypt(token, CONTEXT)
        == (
            '{"hoped_for_help":"Être écoutée 💬","trust_in_care":7,"trust_strains":["money"]}'
        ).encode()
    )


def test_a_token_moved_to_another_record_does_not_decrypt() -> None:
    token = OLD.encrypt(b"private", "intake:B123:partner:1")

    with pytest.raises(DecryptionError):
        OLD.decrypt(token, "intake:B123:partner:2")


def test_an_altered_token_does_not_decrypt() -> None:
    token = OLD.encrypt(b"private answer", CONTEXT)
    raw = bytearray(base64.urlsafe_b64decode(token.removeprefix("old$")))
    raw[-1] ^= 1
    altered = "old$" + base64.urlsafe_b64encode(bytes(raw)).decode()

    with pytest.raises(DecryptionError) as raised:
        OLD.decrypt(altered, CONTEXT)

    assert "private" not in str(raised.value)


@pytest.mark.parametrize("token", ["", "old", "old$", "old$!!!", "old$AAAA", "bad id$AAAA"])
def test_a_malformed_token_does_not_decrypt(token: str) -> None:
    with pytest.raises(DecryptionError):
        OLD.decrypt(token, CONTEXT)


def test_a_token_under_an_unknown_key_does_not_decrypt() -> None:
    token = keyring(f"other:{KEY_B}").encrypt(b"private", CONTEXT)

    with pytest.raises(DecryptionError, match="other"):
        OLD.decrypt(token, CONTEXT)


def test_a_token_relabelled_with_another_key_id_does_not_decrypt() -> None:
    token = ROTATED.encrypt(b"private", CONTEXT)

    with pytest.raises(DecryptionError):
        ROTATED.decrypt(token.replace("new$", "old$"), CONTEXT)


def test_an_empty_context_is_refused() -> None:
    with pytest.raises(ValueError, match="context"):
        OLD.encrypt(b"private", "")


# --- rotation --------------------------------------------------------------------------------


def test_rotation_keeps_old_tokens_readable_and_moves_them_to_the_new_key() -> None:
    old_token = OLD.encrypt_json({"safe_at_home": "yes"}, CONTEXT)

    assert ROTATED.decrypt_json(old_token, CONTEXT) == {"safe_at_home": "yes"}
    assert ROTATED.needs_rotation(old_token) is True

    new_token = ROTATED.reencrypt(old_token, CONTEXT)

    assert key_id_of(new_token) == "new"
    assert ROTATED.needs_rotation(new_token) is False
    assert ROTATED.decrypt_json(new_token, CONTEXT) == {"safe_at_home": "yes"}


def test_new_tokens_are_made_under_the_first_key() -> None:
    assert key_id_of(ROTATED.encrypt(b"x", CONTEXT)) == "new"
    assert ROTATED.primary_key_id == "new"
    assert ROTATED.key_ids == ("new", "old")


def test_reencrypting_a_current_token_leaves_it_as_it_is() -> None:
    token = ROTATED.encrypt(b"x", CONTEXT)

    assert ROTATED.reencrypt(token, CONTEXT) == token


def test_reencrypting_checks_the_context_first() -> None:
    token = OLD.encrypt(b"x", CONTEXT)

    with pytest.raises(DecryptionError):
        ROTATED.reencrypt(token, "intake:B999:partner:1")


# --- parsing the keyring ---------------------------------------------------------------------


def test_keyring_accepts_standard_and_urlsafe_base64_with_or_without_padding() -> None:
    raw = bytes([251] * 32)  # encodes with '+' / '-' and '/' / '_'
    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")

    ring = Keyring.parse(f" a:{standard} , b:{urlsafe} ")
    token = ring.encrypt(b"x", CONTEXT)

    assert ring.key_ids == ("a", "b")
    assert keyring(f"a:{urlsafe}").decrypt(token, CONTEXT) == b"x"


def test_generated_keys_are_accepted_by_the_keyring() -> None:
    first, second = Keyring.generate_key(), Keyring.generate_key()

    assert first != second
    assert len(base64.b64decode(first)) == 32
    assert Keyring.parse(f"k1:{first},k2:{second}").key_ids == ("k1", "k2")


SECRET_KEY_MATERIAL = "SECRETKEYMATERIALxyz0123456789ab"


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("", "not of the form"),
        (SECRET_KEY_MATERIAL, "not of the form"),
        (f"k1:{SECRET_KEY_MATERIAL}", "base64 encoding of 32 bytes"),
        (f"k1:{SECRET_KEY_MATERIAL}!!", "base64 encoding of 32 bytes"),
        (f"{SECRET_KEY_MATERIAL}{SECRET_KEY_MATERIAL}:{KEY_A}", "invalid id"),
        (f"k1:{KEY_A},k1:{KEY_B}", "repeats the key id 'k1'"),
        (f"k1:{KEY_A},", "entry 2 of 2"),
    ],
)
def test_malformed_keyring_is_refused_without_quoting_key_material(
    value: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint) as raised:
        Keyring.parse(value)

    message = str(raised.value)
    assert SECRET_KEY_MATERIAL not in message
    assert KEY_A not in message
    assert KEY_B not in message
    assert raised.value.__cause__ is None


def test_keyring_representation_shows_ids_only() -> None:
    assert repr(ROTATED) == "Keyring(key_ids=['new', 'old'])"


# --- the development key ---------------------------------------------------------------------


def test_development_key_is_generated_once_with_owner_only_access(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "var"

    with caplog.at_level(logging.WARNING, logger="booking.core.datadir"):
        first = development_keyring(data_dir)
    token = first.encrypt(b"kept", CONTEXT)
    second = development_keyring(data_dir)

    key_file = data_dir / "data_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert key_file.read_text().startswith("dev1:")
    assert first.key_ids == ("dev1",)
    assert second.decrypt(token, CONTEXT) == b"kept"
    assert "development encryption key" in caplog.text
    assert os.listdir(data_dir) == ["data_key"]  # no temporary file left behind


def test_development_key_in_place_is_used_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "data_key").write_text(f"mine:{KEY_A}\n")

    ring = development_keyring(tmp_path)

    assert ring.key_ids == ("mine",)
    assert ring.decrypt(OLD.encrypt(b"x", CONTEXT).replace("old$", "mine$"), CONTEXT) == b"x"
