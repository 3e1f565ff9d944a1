"""Unguessable link tokens, derived rather than stored.

A token is an HMAC of the purpose, the subject and a generation counter under
BOOKING_SECRET_KEY, so a worker can rebuild a link for an email, and bumping the generation
revokes a leaked one. The database keeps only a SHA-256 of each token, for lookup.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def derive_token(secret: str, purpose: str, subject: str, generation: int) -> str:
    """43 URL-safe characters (256 bits) for `purpose` ("manage", "intake") and `subject`."""
    message = f"{purpose}\x1f{subject}\x1f{generation}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def token_hash(token: str) -> str:
    """What the database stores and looks a token up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    """Cheap shape check before touching the database (43 URL-safe base64 characters)."""
    return len(value) == 43 and all(c.isalnum() or c in "-_" for c in value)
