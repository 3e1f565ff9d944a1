"""Staff accounts: create, list, set a password, disable, reset (staff.md, "Accounts and
roles"). Every change is audited as whoever made it (a command: the system), in the same
transaction; the sessions a change ends are ended after it commits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email

from booking.bookings.validation import person_name_problem
from booking.core import audit
from booking.core.audit import Actor, AuditAction
from booking.core.db import LockSpace, lock, write_transaction
from booking.core.errors import NotFound, ServiceError, ValidationFailed
from booking.core.timezones import Clock
from booking.scheduling.tables import Therapist
from booking.staff.passwords import hash_password, one_time_password, password_problem
from booking.staff.principal import Role
from booking.staff.sessions import Sessions
from booking.staff.tables import StaffAccount, StaffRecoveryCode


class AccountConflict(ServiceError):
    status_code = 409
    code = "conflict"


class LastAdmin(ServiceError):
    """Disabling this account would leave no active admin."""

    status_code = 409
    code = "last_admin"


SECOND_FACTOR_CLEARED: dict[Any, Any] = {
    StaffAccount.totp_secret: "",
    StaffAccount.totp_pending: "",
}
LOCK_LIFTED: dict[Any, Any] = {
    StaffAccount.failed_attempts: 0,
    StaffAccount.locks: 0,
    StaffAccount.locked_until: None,
}


def normal_email(email: str) -> str:
    """The form an account's email is kept and looked up in: trimmed, lower-cased."""
    return email.strip().lower()


async def staff_names() -> dict[str, str]:
    """Each account's audit label ("staff:7") and the name staff pages show for it: the log
    keeps ids (a name can change, an id cannot), people read names."""
    rows = await StaffAccount.select(StaffAccount.id, StaffAccount.name, StaffAccount.email)
    return {Actor.staff(r["id"]).label: r["name"] or r["email"] for r in rows}


def record_of(account_id: int) -> str:
    """The audit log's `record` for an account: its id, never its email."""
    return f"staff_account:{account_id}"


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the services read it (no secrets but the password hash's presence)."""

    id: int
    email: str
    name: str
    role: Role
    therapist_id: int | None
    therapist_slug: str | None
    disabled: bool
    must_change_password: bool
    has_second_factor: bool
    locked_until: datetime | None

    def state(self, now: datetime) -> str:
        """One word for listings: disabled, locked or active."""
        if self.disabled:
            return "disabled"
        if self.locked_until is not None and self.locked_until > now:
            return "locked"
        return "active"


ACCOUNT_COLUMNS = (
    StaffAccount.id,
    StaffAccount.email,
    StaffAccount.name,
    StaffAccount.role,
    StaffAccount.therapist,
    StaffAccount.therapist.slug.as_alias("therapist_slug"),
    StaffAccount.disabled,
    StaffAccount.must_change_password,
    StaffAccount.totp_secret,
    StaffAccount.locked_until,
)


def account_of(row: dict[str, Any]) -> Account:
    return Account(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=Role(row["role"]),
        therapist_id=row["therapist"],
        therapist_slug=row["therapist_slug"],
        disabled=bool(row["disabled"]),
        must_change_password=bool(row["must_change_password"]),
        has_second_factor=bool(row["totp_secret"]),
        locked_until=row["locked_until"],
    )


async def find_account(
    *, account_id: int | None = None, email: str | None = None
) -> Account | None:
    query = StaffAccount.select(*ACCOUNT_COLUMNS)
    if account_id is not None:
        query = query.where(StaffAccount.id == account_id)
    else:
        query = query.where(StaffAccount.email == normal_email(email or ""))
    row = await query.first()
    return account_of(row) if row is not None else None


@dataclass(frozen=True, slots=True)
class Created:
    account: Account
    # The one-time password to hand over once, when none was given.
    one_time_password: str | None


class StaffAccounts:
    """The account use cases of the command line and (later) the admin pages."""

    def __init__(self, sessions: Sessions, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def create(
        self,
        email: str,
        role: Role,
        *,
        actor: Actor,
        name: str = "",
        therapist: str | None = None,
        password: str | None = None,
        client: str = "",
        agent: str = "",
    ) -> Created:
        """A new account. With `password` it is the account's own; without, a one-time
        password is made, to be changed at first sign-in. A therapist account names its
        therapist (a slug); an admin's names none."""
        address = _valid_email(email)
        name = name.strip() or address.split("@")[0]
        if problem := person_name_problem(name):
            raise ValidationFailed.on("name", problem)
        if role is Role.THERAPIST and not therapist:
            raise ValidationFailed.on("therapist", "A therapist's account names its therapist.")
        if role is Role.ADMIN and therapist:
            raise ValidationFailed.on("therapist", "An admin's account belongs to no therapist.")
        given = password is not None
        if password is None:
            password = one_time_password()
        elif problem := password_problem(password, address):
            raise ValidationFailed.on("password", problem)
        password_hash = await asyncio.to_thread(
            hash_password, password
        )  # slow: not in the transaction
        now = self.clock()
        async with write_transaction():
            therapist_id = await _therapist_id(therapist) if therapist else None
            if await StaffAccount.exists().where(StaffAccount.email == address):
                raise AccountConflict("An account with that email exists already.")
            if therapist_id is not None and await StaffAccount.exists().where(
                StaffAccount.therapist == therapist_id
            ):
                raise AccountConflict("That therapist has an account already.")
            rows = await StaffAccount.insert(
                StaffAccount(
                    email=address,
                    name=name,
                    role=role.value,
                    therapist=therapist_id,
                    password_hash=password_hash,
                    must_change_password=not given,
                    created_at=now,
                )
            ).returning(StaffAccount.id)
            account_id = rows[0]["id"]
            await audit.record(
                AuditAction.STAFF_ACCOUNT_CREATED,
                actor=actor,
                booking="",
                record=record_of(account_id),
                at=now,
                client=client,
                agent=agent,
            )
        account = await find_account(account_id=account_id)
        if account is None:  # pragma: no cover - just inserted
            raise NotFound("The account was not created.")
        return Created(account, None if given else password)

    async def accounts(self) -> list[Account]:
        rows = await StaffAccount.select(*ACCOUNT_COLUMNS).order_by(StaffAccount.email)
        return [account_of(row) for row in rows]

    async def set_password(
        self,
        account_id: int,
        password: str,
        *,
        actor: Actor,
        one_time: bool = False,
        client: str = "",
        agent: str = "",
    ) -> None:
        """Sets the account's password (`one_time`: to be changed at next sign-in) and ends
        every session of the account."""
        account = await _existing(account_id)
        if not one_time and (problem := password_problem(password, account.email)):
            raise ValidationFailed.on("password", problem)
        password_hash = await asyncio.to_thread(hash_password, password)
        await self._change(
            account_id,
            {
                StaffAccount.password_hash: password_hash,
                StaffAccount.must_change_password: one_time,
            },
            AuditAction.STAFF_PASSWORD_CHANGED,
            actor=actor,
            client=client,
            agent=agent,
        )

    async def disable(
        self, account_id: int, *, actor: Actor, client: str = "", agent: str = ""
    ) -> None:
        """The account can no longer sign in, and its sessions end now. The last active
        admin's account is refused (`LastAdmin`): the practice would have nobody left to
        administer it."""
        await _existing(account_id)
        await self._change(
            account_id,
            {StaffAccount.disabled: True},
            AuditAction.STAFF_ACCOUNT_DISABLED,
            actor=actor,
            client=client,
            agent=agent,
            check=_not_the_last_admin,
        )

    async def enable(
        self, account_id: int, *, actor: Actor, client: str = "", agent: str = ""
    ) -> None:
        """A disabled account may sign in again, with the password and second factor it had
        (someone back from leave, or a disable undone); audited like the disable."""
        await _existing(account_id)
        await self._change(
            account_id,
            {StaffAccount.disabled: False},
            AuditAction.STAFF_ACCOUNT_ENABLED,
            actor=actor,
            client=client,
            agent=agent,
        )

    async def reset(
        self, account_id: int, *, actor: Actor, client: str = "", agent: str = ""
    ) -> str:
        """A new one-time password (returned, to hand over once); the second factor and the
        recovery codes are cleared, the lock lifted, and every session ends."""
        return await self._one_time_password(
            account_id,
            AuditAction.STAFF_ACCOUNT_RESET,
            SECOND_FACTOR_CLEARED,
            actor=actor,
            client=client,
            agent=agent,
            recovery_codes_cleared=True,
        )

    async def reset_password(
        self, account_id: int, *, actor: Actor, client: str = "", agent: str = ""
    ) -> str:
        """A new one-time password (returned, to hand over once, to be changed at the next
        sign-in); the lock is lifted and every session ends. The second factor stays."""
        return await self._one_time_password(
            account_id,
            AuditAction.STAFF_PASSWORD_RESET,
            {},
            actor=actor,
            client=client,
            agent=agent,
        )

    async def _one_time_password(
        self,
        account_id: int,
        action: AuditAction,
        also: dict[Any, Any],
        *,
        actor: Actor,
        client: str,
        agent: str,
        recovery_codes_cleared: bool = False,
    ) -> str:
        """A new one-time password for the account (to be changed at the next sign-in), its
        lock lifted and the columns of `also` changed with it, in one audited change."""
        await _existing(account_id)
        password = one_time_password()
        password_hash = await asyncio.to_thread(hash_password, password)
        await self._change(
            account_id,
            {
                StaffAccount.password_hash: password_hash,
                StaffAccount.must_change_password: True,
                **also,
                **LOCK_LIFTED,
            },
            action,
            actor=actor,
            client=client,
            agent=agent,
            recovery_codes_cleared=recovery_codes_cleared,
        )
        return password

    async def reset_second_factor(
        self, account_id: int, *, actor: Actor, client: str = "", agent: str = ""
    ) -> None:
        """The authenticator app and the recovery codes are forgotten (a lost phone), and
        every session ends; the password stays. An account that needs the second factor is
        sent to enrol a new one at its next sign-in."""
        await _existing(account_id)
        await self._change(
            account_id,
            dict(SECOND_FACTOR_CLEARED),
            AuditAction.STAFF_SECOND_FACTOR_RESET,
            actor=actor,
            client=client,
            agent=agent,
            recovery_codes_cleared=True,
        )

    async def _change(
        self,
        account_id: int,
        values: dict[Any, Any],
        action: AuditAction,
        *,
        actor: Actor,
        client: str = "",
        agent: str = "",
        recovery_codes_cleared: bool = False,
        check: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """One change of an account's secrets or state: written with its audit row in one
        transaction (after `check`, which may refuse it, in the same transaction), then every
        session of the account ends (none outlives the change)."""
        now = self.clock()
        async with write_transaction():
            if check is not None:
                await check(account_id)
            await StaffAccount.update(values).where(StaffAccount.id == account_id)
            if recovery_codes_cleared:
                await StaffRecoveryCode.delete().where(StaffRecoveryCode.account == account_id)
            await audit.record(
                action,
                actor=actor,
                booking="",
                record=record_of(account_id),
                at=now,
                client=client,
                agent=agent,
            )
        await self.sessions.end_all(account_id)


async def account_by_email(email: str) -> Account:
    """The account of `email`, or NotFound."""
    account = await find_account(email=email)
    if account is None:
        raise NotFound("No staff account has that email.")
    return account


async def _not_the_last_admin(account_id: int) -> None:
    """Refuses (LastAdmin) when `account_id` is the only active admin. Under the admins'
    lock, so two admins disabling each other at once cannot both pass."""
    await lock(LockSpace.STAFF_ADMINS, 0)
    active_admins = StaffAccount.select(StaffAccount.id).where(
        (StaffAccount.role == Role.ADMIN.value) & (StaffAccount.disabled.eq(False))
    )
    ids = {row["id"] for row in await active_admins}
    if ids == {account_id}:
        raise LastAdmin("This is the only active admin account: add or enable another admin first.")


async def _existing(account_id: int) -> Account:
    account = await find_account(account_id=account_id)
    if account is None:
        raise NotFound("No such staff account.")
    return account


def _valid_email(email: str) -> str:
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise ValidationFailed.on(
            "email", "Enter an email address like name@example.org."
        ) from None
    return normal_email(checked.normalized)


async def _therapist_id(slug: str) -> int:
    row = await Therapist.select(Therapist._meta.primary_key).where(Therapist.slug == slug).first()
    if row is None:
        raise ValidationFailed.on("therapist", f"No therapist '{slug}'.")
    return int(row["id"])
