"""The second factor: TOTP (RFC 6238: 30-second steps, six digits, SHA-1, as every
authenticator app reads it) and single-use recovery codes.

A code is accepted for the current step or one step either side (clock drift), and only for a
step later than the last one accepted, so a code seen over a shoulder cannot be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

STEP_SECONDS = 30
DRIFT_STEPS = 1
DIGITS = 6
RECOVERY_CODES = 10
# Recovery codes: 16 characters of base32 (80 bits), shown as four groups of four.
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_NOT_CODE = re.compile(r"[\s-]+")


def new_secret() -> str:
    """A new TOTP secret: 160 random bits in base32, as RFC 4226 recommends."""
    return pyotp.random_base32(length=32)


def step_of(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def accepted_step(secret: str, code: str, at: datetime, last_step: int) -> int | None:
    """The step `code` belongs to, if it is right for `at` (one step of drift either way) and
    later than `last_step`; else None."""
    code = _NOT_CODE.sub("", code)
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = step_of(at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if step > last_step and hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def looks_like_totp(code: str) -> bool:
    code = _NOT_CODE.sub("", code)
    return len(code) == DIGITS and code.isascii() and code.isdigit()


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the enrolment page shows: the QR code as SVG markup, the secret in groups of four
    for typing, and the otpauth:// URI itself."""

    secret: str
    uri: str
    qr_svg: str

    @property
    def grouped_secret(self) -> str:
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def enrolment(secret: str, email: str, issuer: str) -> Enrolment:
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=issuer
    )
    qr = segno.make(uri, error="m")
    svg = qr.svg_inline(scale=5, dark="#1f2a30", light="#ffffff", title="QR code to scan")
    return Enrolment(secret, uri, svg)


def new_recovery_codes() -> list[str]:
    """Ten new recovery codes, each shown once as xxxx-xxxx-xxxx-xxxx."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_code_hash(code: str) -> str:
    """What is stored of a recovery code: SHA-256 of it without spaces, dashes or case (80
    random bits need no slow hash)."""
    normalised = _NOT_CODE.sub("", code).lower()
    return hashlib.sha256(f"staff-recovery\x1f{normalised}".encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    normalised = _NOT_CODE.sub("", code).lower()
    return len(normalised) == 16 and all(c in _RECOVERY_ALPHABET for c in normalised)
