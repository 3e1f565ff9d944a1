"""Encryption of intake answers at rest: AES-256-GCM under a keyring of named keys.

A token is `<key id>$<urlsafe base64 of nonce + ciphertext>`. The first key of the keyring
encrypts and every key decrypts, so rotation is putting a new key first and re-encrypting
(`needs_rotation`, `reencrypt`). Each ciphertext is bound to its record by a context string
used as associated data ("intake:B123:partner:1"): a token copied to another row does not
decrypt there. No message here ever includes key material or plaintext.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
SEPARATOR = "$"
DEVELOPMENT_KEY_ID = "dev1"


class DecryptionError(Exception):
    """A token cannot be decrypted: malformed, altered, under an unknown key or another context."""


class Keyring:
    """Named 256-bit keys in order: the first encrypts, all decrypt."""

    __slots__ = ("_ciphers",)

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise ValueError("A keyring needs at least one key.")
        for key_id, key in keys.items():
            if not KEY_ID.fullmatch(key_id):
                raise ValueError("Key ids are 1 to 32 letters, digits, '-' or '_'.")
            if len(key) != KEY_BYTES:
                raise ValueError(f"Key {key_id!r} must be exactly {KEY_BYTES} bytes.")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    @classmethod
    def parse(cls, value: str) -> Keyring:
        """A keyring from `"id:base64key,id2:base64key2"` (standard or urlsafe base64).

        Raises ValueError naming the entry at fault, never quoting key material.
        """
        keys: dict[str, bytes] = {}
        entries = value.split(",")
        for number, entry in enumerate(entries, start=1):
            where = f"Key entry {number} of {len(entries)}"
            key_id, colon, encoded = entry.strip().partition(":")
            if not colon:
                raise ValueError(f"{where} is not of the form id:base64key.")
            if not KEY_ID.fullmatch(key_id):
                raise ValueError(f"{where} has an invalid id (1 to 32 letters, digits, '-', '_').")
            if key_id in keys:
                raise ValueError(f"{where} repeats the key id {key_id!r}.")
            key = _decode_key(encoded.strip())
            if key is None:
                raise ValueError(
                    f"{where} (id {key_id!r}) is not the base64 encoding of {KEY_BYTES} bytes."
                )
            keys[key_id] = key
        return cls(keys)

    @staticmethod
    def generate_key() -> str:
        """A new random key in standard base64, ready for `id:key` in the keyring setting."""
        return base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode("ascii")

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(self._ciphers)

    @property
    def primary_key_id(self) -> str:
        """The id of the key that encrypts."""
        return next(iter(self._ciphers))

    def __repr__(self) -> str:
        return f"Keyring(key_ids={list(self._ciphers)!r})"

    def encrypt(self, plaintext: bytes, context: str) -> str:
        """A token for `plaintext` under the first key, bound to `context`."""
        key_id = self.primary_key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, plaintext, _associated_data(context))
        return f"{key_id}{SEPARATOR}{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str, context: str) -> bytes:
        """The plaintext of `token`; raises DecryptionError unless it was made for `context`."""
        key_id = key_id_of(token)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(f"No key with id {key_id!r} is in the keyring.")
        try:
            raw = base64.b64decode(token[len(key_id) + 1 :], altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise DecryptionError("The token is malformed.") from None
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("The token is malformed.")
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated_data(context))
        except InvalidTag:
            raise DecryptionError(
                "The token does not decrypt: it was altered or belongs to another record."
            ) from None

    def encrypt_json(self, obj: object, context: str) -> str:
        """`encrypt` of `obj` as compact UTF-8 JSON."""
        return self.encrypt(msgspec.json.encode(obj), context)

    def decrypt_json(self, token: str, context: str) -> object:
        """The JSON value sealed by `encrypt_json`."""
        plaintext = self.decrypt(token, context)
        try:
            return msgspec.json.decode(plaintext)
        except msgspec.DecodeError:
            raise DecryptionError("The token does not hold JSON.") from None

    def needs_rotation(self, token: str) -> bool:
        """Whether `token` was made under a key other than the first."""
        return key_id_of(token) != self.primary_key_id

    def reencrypt(self, token: str, context: str) -> str:
        """`token` under the first key (unchanged if it already is, after checking it decrypts)."""
        plaintext = self.decrypt(token, context)
        if not self.needs_rotation(token):
            return token
        return self.encrypt(plaintext, context)


def key_id_of(token: str) -> str:
    """The id of the key `token` was made under; raises DecryptionError if malformed."""
    key_id, separator, _ = token.partition(SEPARATOR)
    if not separator or not KEY_ID.fullmatch(key_id):
        raise DecryptionError("The token is malformed.")
    return key_id


def _decode_key(encoded: str) -> bytes | None:
    normalised = encoded.replace("-", "+").replace("_", "/")
    normalised += "=" * (-len(normalised) % 4)
    try:
        key = base64.b64decode(normalised, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES else None


def _associated_data(context: str) -> bytes:
    if not context:
        raise ValueError("An encryption context is required: it binds a ciphertext to its record.")
    return context.encode("utf-8")
