"""The links the service hands out: absolute URLs built from derived tokens."""

from __future__ import annotations

from dataclasses import dataclass

from booking.core.settings import Settings
from booking.core.tokens import derive_token


@dataclass(frozen=True, slots=True)
class Links:
    """Builds the absolute links the service hands out, from derived tokens."""

    settings: Settings

    def manage_token(self, reference: str, generation: int) -> str:
        return derive_token(self.settings.secret_key, "manage", reference, generation)

    def intake_token(self, reference: str, position: int, generation: int) -> str:
        subject = f"{reference}:{position}"
        return derive_token(self.settings.secret_key, "intake", subject, generation)

    def manage_url(self, token: str) -> str:
        return f"{self.settings.public_base_url}/manage/{token}"

    def pay_url(self, token: str) -> str:
        """The payment page of a held booking (behind its manage token)."""
        return f"{self.manage_url(token)}/pay"

    def intake_url(self, token: str) -> str:
        return f"{self.settings.public_base_url}/intake/{token}"
