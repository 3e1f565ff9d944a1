"""Who is signed in on the staff side: the one value every staff page and service is given.

The web layer builds it from the server-side session (only once the password and, where
required, the second factor were accepted); services decide what it may reach from it alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from booking.core.audit import Actor


class Role(StrEnum):
    """A staff account's role (staff.md, "Accounts and roles"); the stored value."""

    ADMIN = "admin"
    THERAPIST = "therapist"


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    """A signed-in member of staff. `therapist_id` is the therapist a therapist's account
    belongs to (None for an admin, who reaches every therapist)."""

    account_id: int
    email: str
    name: str
    role: Role
    therapist_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def actor(self) -> Actor:
        """The audit log's actor for what this person does: "staff:<account id>"."""
        return Actor.staff(self.account_id)
