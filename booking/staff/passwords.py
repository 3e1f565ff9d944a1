"""Staff passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's low-memory profile),
the rules a new password meets, and one-time passwords.

An unknown email is checked against a hash made at start-up with the same parameters, so a
sign-in costs the same whether the account exists or not.
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 takes any length; a megabyte "password" only wastes the server
COMMON_PASSWORDS = Path(__file__).resolve().parent / "common_passwords.txt"
# One-time passwords: 4 groups of 5 from an alphabet without look-alikes (about 99 bits).
_ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return HASHER.hash(password)


@cache
def _decoy_hash() -> str:
    """A hash of a random password, checked when no account has the email given."""
    return HASHER.hash(secrets.token_urlsafe(24))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`; with None (no such account) the same work is
    done against the decoy hash and the answer is False."""
    try:
        HASHER.verify(password_hash or _decoy_hash(), password[:MAX_LENGTH])
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (rehash at sign-in)."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def warm_up() -> None:
    """Make the decoy hash now, so the first unknown email costs no more than a known one."""
    _decoy_hash()


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower-cased), one a line; # starts a comment."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, email: str = "") -> str | None:
    """Why `password` cannot be a staff password, or None: 12 characters or more, not on the
    list of common passwords, not the account's email or a single repeated character."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.strip().lower()
    if folded in common_passwords() or len(set(folded)) <= 2:
        return "That password is too common. Choose one that is hard to guess."
    if email and email.lower() in folded:
        return "Do not use your email address in your password."
    return None


def one_time_password() -> str:
    """A new random password to hand over once (it must be changed at first sign-in)."""
    groups = ("".join(secrets.choice(_ONE_TIME_ALPHABET) for _ in range(5)) for _ in range(4))
    return "-".join(groups)
