"""Signing in: the password, then (where due) the second factor, a first enrolment or a new
password; throttled per account (lockout) and per client address; every step audited.

Policy (docs/decisions.md, "Staff lockout and throttling"): five failures in a row for one
account (passwords and second-factor codes alike) lock it for 15 minutes, each further lock
twice as long (at most a day), until a sign-in succeeds. Twenty failures from one client
address in 15 minutes refuse that address's attempts until the oldest is 15 minutes old.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from booking.core import audit
from booking.core.audit import ANONYMOUS, Actor, AuditAction
from booking.core.crypto import Keyring
from booking.core.db import write_transaction
from booking.core.settings import Settings
from booking.core.timezones import Clock
from booking.staff.accounts import Account, find_account, normal_email, record_of
from booking.staff.passwords import hash_password, needs_rehash, verify_password
from booking.staff.principal import Role, StaffPrincipal
from booking.staff.second_factor import (
    accepted_step,
    looks_like_recovery_code,
    looks_like_totp,
    recovery_code_hash,
)
from booking.staff.sessions import SessionRecord, Stage
from booking.staff.tables import StaffAccount, StaffRecoveryCode, StaffSignInFailure

FAILURES_BEFORE_LOCK = 5
FIRST_LOCK = timedelta(minutes=15)
LONGEST_LOCK = timedelta(hours=24)
ADDRESS_FAILURES = 20
ADDRESS_WINDOW = timedelta(minutes=15)


class Refusal(StrEnum):
    """Why a sign-in step was refused (each has one message, whatever was wrong)."""

    MISMATCH = "mismatch"
    LOCKED = "locked"
    THROTTLED = "throttled"


class Step(StrEnum):
    """What a signed-in session still has to do before it reaches the staff pages."""

    SECOND_FACTOR = "second_factor"
    ENROL = "enrol"
    NEW_PASSWORD = "new_password"


@dataclass(frozen=True, slots=True)
class Client:
    """Where a request came from, as the audit log keeps it: the address digest and the
    browser's User-Agent."""

    address: str = ""
    agent: str = ""


@dataclass(frozen=True, slots=True)
class Attempt:
    """What a step came to: the account it was for (when accepted), or why not."""

    account: Account | None = None
    refusal: Refusal | None = None
    locked_until: datetime | None = None


def totp_context(account_id: int) -> str:
    """The encryption context binding a sealed TOTP secret to its account."""
    return f"staff:{account_id}:totp"


def lock_length(locks_before: int) -> timedelta:
    """How long the next lock lasts, after `locks_before` earlier ones: 15 min, 30, 60 …"""
    longer: timedelta = FIRST_LOCK * int(2 ** min(locks_before, 10))
    return min(LONGEST_LOCK, longer)


class SignIn:
    """The steps of signing in, and who a session stands for once they are done."""

    def __init__(self, settings: Settings, keyring: Keyring, clock: Clock) -> None:
        self.require_totp = settings.staff_require_totp
        self.keyring = keyring
        self.clock = clock

    def needs_second_factor(self, account: Account) -> bool:
        return account.role is Role.ADMIN or self.require_totp or account.has_second_factor

    def next_step(self, account: Account, stage: Stage) -> Step | None:
        """What the session must still do; None: it is fully signed in."""
        if stage is Stage.PASSWORD and self.needs_second_factor(account):
            return Step.SECOND_FACTOR if account.has_second_factor else Step.ENROL
        if account.must_change_password:
            return Step.NEW_PASSWORD
        return None

    async def session_account(self, record: SessionRecord) -> Account | None:
        """The account a live session stands for; None once it is disabled or gone."""
        account = await find_account(account_id=record.account_id)
        if account is None or account.disabled:
            return None
        return account

    def principal(self, account: Account) -> StaffPrincipal:
        return StaffPrincipal(
            account_id=account.id,
            email=account.email,
            name=account.name,
            role=account.role,
            therapist_id=account.therapist_id,
        )

    async def check_password(self, email: str, password: str, client: Client) -> Attempt:
        """The first step. The password is checked (at the same cost) whether or not an
        enabled account has that email; an address past its failures is refused unchecked."""
        now = self.clock()
        if await self._address_throttled(client.address, now):
            async with write_transaction():
                await self._audit(AuditAction.STAFF_SIGN_IN_THROTTLED, ANONYMOUS, "", now, client)
            return Attempt(refusal=Refusal.THROTTLED)
        row = await (
            StaffAccount.select(
                StaffAccount.id,
                StaffAccount.password_hash,
                StaffAccount.disabled,
                StaffAccount.locked_until,
            )
            .where(StaffAccount.email == normal_email(email))
            .first()
        )
        usable = row is not None and not row["disabled"]
        matches = verify_password(row["password_hash"] if usable and row else None, password)
        if row is None or not usable:
            await self._failed(None, "unknown or disabled account", now, client)
            return Attempt(refusal=Refusal.MISMATCH)
        account_id = int(row["id"])
        locked_until = row["locked_until"]
        if locked_until is not None and locked_until > now:
            async with write_transaction():
                await self._note_address_failure(client.address, now)
                await self._audit(
                    AuditAction.STAFF_SIGN_IN_FAILED,
                    Actor.staff(account_id),
                    "locked",
                    now,
                    client,
                    account_id,
                )
            return Attempt(refusal=Refusal.LOCKED, locked_until=locked_until)
        if not matches:
            lock = await self._failed(account_id, "wrong password", now, client)
            if lock is not None:
                return Attempt(refusal=Refusal.LOCKED, locked_until=lock)
            return Attempt(refusal=Refusal.MISMATCH)
        if needs_rehash(row["password_hash"]):
            await StaffAccount.update({StaffAccount.password_hash: hash_password(password)}).where(
                StaffAccount.id == account_id
            )
        account = await find_account(account_id=account_id)
        async with write_transaction():
            await self._succeeded(account_id)
            await self._audit(
                AuditAction.STAFF_PASSWORD_ACCEPTED,
                Actor.staff(account_id),
                "",
                now,
                client,
                account_id,
            )
        return Attempt(account=account)

    async def check_code(self, account: Account, code: str, client: Client) -> Attempt:
        """The second step: a TOTP code of a step not accepted before, or an unused recovery
        code (then used up)."""
        now = self.clock()
        if await self._address_throttled(client.address, now):
            async with write_transaction():
                await self._audit(
                    AuditAction.STAFF_SIGN_IN_THROTTLED,
                    Actor.staff(account.id),
                    "second factor",
                    now,
                    client,
                    account.id,
                )
            return Attempt(refusal=Refusal.THROTTLED)
        row = await (
            StaffAccount.select(
                StaffAccount.totp_secret, StaffAccount.totp_last_step, StaffAccount.locked_until
            )
            .where(StaffAccount.id == account.id)
            .first()
        )
        if row is None or not row["totp_secret"]:
            return Attempt(refusal=Refusal.MISMATCH)
        if row["locked_until"] is not None and row["locked_until"] > now:
            return Attempt(refusal=Refusal.LOCKED, locked_until=row["locked_until"])
        accepted: str | None = None
        async with write_transaction():
            if looks_like_totp(code):
                secret = self.keyring.decrypt(row["totp_secret"], totp_context(account.id))
                step = accepted_step(secret.decode(), code, now, int(row["totp_last_step"]))
                # Conditional, so two requests racing with one code cannot both pass.
                if step is not None and await StaffAccount.update(
                    {StaffAccount.totp_last_step: step}
                ).where(
                    StaffAccount.id == account.id, StaffAccount.totp_last_step < step
                ).returning(StaffAccount.id):
                    accepted = "totp"
            elif looks_like_recovery_code(code) and await StaffRecoveryCode.update(
                {StaffRecoveryCode.used_at: now}
            ).where(
                StaffRecoveryCode.account == account.id,
                StaffRecoveryCode.code_hash == recovery_code_hash(code),
                StaffRecoveryCode.used_at.is_null(),
            ).returning(StaffRecoveryCode.id):
                accepted = "recovery code"
            if accepted is not None:
                await self._succeeded(account.id)
                action = (
                    AuditAction.STAFF_RECOVERY_CODE_USED
                    if accepted == "recovery code"
                    else AuditAction.STAFF_SECOND_FACTOR_ACCEPTED
                )
                await self._audit(action, Actor.staff(account.id), "", now, client, account.id)
        if accepted is None:
            lock = await self._failed(
                account.id,
                "wrong code",
                now,
                client,
                action=AuditAction.STAFF_SECOND_FACTOR_FAILED,
            )
            if lock is not None:
                return Attempt(refusal=Refusal.LOCKED, locked_until=lock)
            return Attempt(refusal=Refusal.MISMATCH)
        return Attempt(account=account)

    async def signed_in(self, account: Account, client: Client) -> None:
        """Notes that a session has done every step: the sign-in itself, audited."""
        now = self.clock()
        async with write_transaction():
            await self._audit(
                AuditAction.STAFF_SIGNED_IN, Actor.staff(account.id), "", now, client, account.id
            )

    async def signed_out(self, account_id: int, client: Client, *, everywhere: bool) -> None:
        action = (
            AuditAction.STAFF_SIGNED_OUT_EVERYWHERE if everywhere else AuditAction.STAFF_SIGNED_OUT
        )
        async with write_transaction():
            await self._audit(action, Actor.staff(account_id), "", self.clock(), client, account_id)

    async def _address_throttled(self, address: str, now: datetime) -> bool:
        if not address:
            return False
        recent = await StaffSignInFailure.count().where(
            StaffSignInFailure.address == address, StaffSignInFailure.at > now - ADDRESS_WINDOW
        )
        return int(recent) >= ADDRESS_FAILURES

    async def _note_address_failure(self, address: str, now: datetime) -> None:
        if not address:
            return
        await StaffSignInFailure.delete().where(StaffSignInFailure.at <= now - ADDRESS_WINDOW)
        await StaffSignInFailure.insert(StaffSignInFailure(address=address, at=now))

    async def _failed(
        self,
        account_id: int | None,
        why: str,
        now: datetime,
        client: Client,
        action: AuditAction = AuditAction.STAFF_SIGN_IN_FAILED,
    ) -> datetime | None:
        """Counts a failure against the address and the account; locks the account at the
        fifth in a row and returns until when (else None)."""
        async with write_transaction():
            await self._note_address_failure(client.address, now)
            if account_id is None:
                await self._audit(action, ANONYMOUS, why, now, client)
                return None
            counted = await (
                StaffAccount.update(
                    {StaffAccount.failed_attempts: StaffAccount.failed_attempts + 1}
                )
                .where(StaffAccount.id == account_id)
                .returning(StaffAccount.failed_attempts, StaffAccount.locks)
            )
            actor = Actor.staff(account_id)
            await self._audit(action, actor, why, now, client, account_id)
            failures, locks = int(counted[0]["failed_attempts"]), int(counted[0]["locks"])
            if failures < FAILURES_BEFORE_LOCK:
                return None
            until = now + lock_length(locks)
            await StaffAccount.update(
                {
                    StaffAccount.failed_attempts: 0,
                    StaffAccount.locks: locks + 1,
                    StaffAccount.locked_until: until,
                }
            ).where(StaffAccount.id == account_id)
            minutes = int(lock_length(locks).total_seconds() // 60)
            await self._audit(
                AuditAction.STAFF_LOCKED, actor, f"{minutes} minutes", now, client, account_id
            )
            return until

    async def _succeeded(self, account_id: int) -> None:
        await StaffAccount.update(
            {
                StaffAccount.failed_attempts: 0,
                StaffAccount.locks: 0,
                StaffAccount.locked_until: None,
            }
        ).where(StaffAccount.id == account_id)

    async def _audit(
        self,
        action: AuditAction,
        actor: Actor,
        why: str,
        now: datetime,
        client: Client,
        account_id: int | None = None,
    ) -> None:
        record = record_of(account_id) if account_id is not None else ""
        await audit.record(
            action,
            actor=actor,
            booking="",
            record=f"{record} {why}".strip(),
            at=now,
            client=client.address,
            agent=client.agent,
        )
