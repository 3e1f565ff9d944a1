"""Demo staff for development (`booking demo`): an admin, and one account for each demo
therapist, each with a one-time password returned once (to be changed at first sign-in).
Accounts that exist already are left as they are, so running it again adds nothing."""

from __future__ import annotations

from booking.core.audit import SYSTEM
from booking.scheduling.demo import THERAPISTS
from booking.staff.accounts import StaffAccounts, find_account
from booking.staff.principal import Role

DEMO_ADMIN = "admin@harbour-counselling.example"


async def seed_demo_staff(accounts: StaffAccounts) -> list[tuple[str, str, str]]:
    """(email, role, one-time password) of each account added now."""
    wanted = [(DEMO_ADMIN, Role.ADMIN, None, "Practice Coordinator")]
    wanted += [(t["email"], Role.THERAPIST, t["slug"], t["name"]) for t in THERAPISTS]
    added = []
    for email, role, slug, name in wanted:
        if await find_account(email=email) is not None:
            continue
        created = await accounts.create(email, role, actor=SYSTEM, name=name, therapist=slug)
        if created.one_time_password is not None:
            added.append((created.account.email, role.value, created.one_time_password))
    return added
