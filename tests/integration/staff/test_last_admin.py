"""The last active admin stays: disabling it is refused, and two admins disabling each other
at the same moment leave one of them active (the admins' lock orders the two)."""

from __future__ import annotations

import asyncio

import pytest

from booking.core.settings import Settings
from booking.core.timezones import utc_now
from booking.staff.accounts import LastAdmin, StaffAccounts
from booking.staff.principal import Role, StaffPrincipal
from booking.staff.sessions import DatabaseSessionStore, Sessions
from booking.staff.tables import StaffAccount
from tests.fixtures.databases import Database
from tests.staff_support import create_staff


def accounts() -> StaffAccounts:
    return StaffAccounts(Sessions(Settings.from_env(), DatabaseSessionStore(), utc_now), utc_now)


def actor(account_id: int) -> StaffPrincipal:
    return StaffPrincipal(account_id, "", "", Role.ADMIN)


async def active_admins() -> int:
    return int(
        await StaffAccount.count().where(
            (StaffAccount.role == "admin") & (StaffAccount.disabled.eq(False))
        )
    )


async def test_the_only_admin_cannot_be_disabled_but_a_therapist_can(database: Database) -> None:
    admin = await create_staff(Role.ADMIN)
    service = accounts()

    with pytest.raises(LastAdmin):
        await service.disable(admin.account_id, actor=actor(admin.account_id).actor)

    assert await active_admins() == 1


async def test_two_admins_disabling_each_other_at_once_leave_one(database: Database) -> None:
    first = await create_staff(Role.ADMIN)
    second = await create_staff(Role.ADMIN)
    service = accounts()

    results = await asyncio.gather(
        service.disable(second.account_id, actor=actor(first.account_id).actor),
        service.disable(first.account_id, actor=actor(second.account_id).actor),
        return_exceptions=True,
    )

    assert sorted(type(r).__name__ for r in results) == ["LastAdmin", "NoneType"]
    assert await active_admins() == 1
