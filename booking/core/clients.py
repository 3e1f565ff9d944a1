"""Client addresses, as far as the service knows them and keeps them.

Which address a request comes from is decided by the server: `booking serve` lets uvicorn
believe X-Forwarded-For only from TRUSTED_PROXIES. Limits that must recognise an address
again keep a keyed digest of it, never the address itself.
"""

from __future__ import annotations

import hashlib
import hmac


def address_digest(secret: str, address: str) -> str:
    """An HMAC-SHA256 of the client `address` under BOOKING_SECRET_KEY (64 hex characters)."""
    message = f"client-address\x1f{address}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
