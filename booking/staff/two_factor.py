"""Setting up the second factor: a new TOTP secret shown once (QR code, grouped secret, URI),
confirmed by a code from it, then ten recovery codes shown once; and new recovery codes later.

The secret waits, sealed, in `totp_pending` until confirmed, so an enrolment left half-way
changes nothing; confirming replaces any earlier secret and every earlier recovery code.
"""

from __future__ import annotations

from typing import Any

from piccolo.columns import Column

from booking.core import audit
from booking.core.audit import AuditAction
from booking.core.crypto import DecryptionError, Keyring
from booking.core.db import write_transaction
from booking.core.timezones import Clock
from booking.staff.accounts import Account, record_of
from booking.staff.second_factor import (
    Enrolment,
    accepted_step,
    enrolment,
    new_recovery_codes,
    new_secret,
    recovery_code_hash,
)
from booking.staff.sign_in import Client, totp_context
from booking.staff.tables import StaffAccount, StaffRecoveryCode


def pending_context(account_id: int) -> str:
    return f"staff:{account_id}:totp-pending"


class TwoFactor:
    def __init__(self, keyring: Keyring, clock: Clock, issuer: str) -> None:
        self.keyring = keyring
        self.clock = clock
        self.issuer = issuer

    async def pending(self, account: Account) -> Enrolment:
        """The enrolment under way for `account` (begun now if none is): the same secret on a
        reload, until it is confirmed."""
        row = (
            await StaffAccount.select(StaffAccount.totp_pending)
            .where(StaffAccount.id == account.id)
            .first()
        )
        secret: str | None = None
        if row is not None and row["totp_pending"]:
            try:
                secret = self.keyring.decrypt(
                    row["totp_pending"], pending_context(account.id)
                ).decode()
            except DecryptionError:
                secret = None
        if secret is None:
            secret = new_secret()
            sealed = self.keyring.encrypt(secret.encode(), pending_context(account.id))
            await StaffAccount.update({StaffAccount.totp_pending: sealed}).where(
                StaffAccount.id == account.id
            )
        return enrolment(secret, account.email, self.issuer)

    async def confirm(self, account: Account, code: str, client: Client) -> list[str] | None:
        """The ten recovery codes (to show once) when `code` is right for the pending secret,
        which becomes the account's; None when it is not."""
        row = (
            await StaffAccount.select(StaffAccount.totp_pending)
            .where(StaffAccount.id == account.id)
            .first()
        )
        if row is None or not row["totp_pending"]:
            return None
        try:
            secret = self.keyring.decrypt(row["totp_pending"], pending_context(account.id))
        except DecryptionError:
            return None
        now = self.clock()
        step = accepted_step(secret.decode(), code, now, 0)
        if step is None:
            return None
        codes = new_recovery_codes()
        async with write_transaction():
            await StaffAccount.update(
                {
                    StaffAccount.totp_secret: self.keyring.encrypt(
                        secret, totp_context(account.id)
                    ),
                    StaffAccount.totp_pending: "",
                    # The confirming code is used: it does not also sign in.
                    StaffAccount.totp_last_step: step,
                }
            ).where(StaffAccount.id == account.id)
            await self._store_codes(account.id, codes)
            await audit.record(
                AuditAction.STAFF_TWO_FACTOR_ENROLLED,
                actor=account_actor(account),
                booking="",
                record=record_of(account.id),
                at=now,
                client=client.address,
                agent=client.agent,
            )
        return codes

    async def new_codes(self, account: Account, client: Client) -> list[str]:
        """Ten new recovery codes (to show once); the earlier ones stop working."""
        codes = new_recovery_codes()
        async with write_transaction():
            await self._store_codes(account.id, codes)
            await audit.record(
                AuditAction.STAFF_RECOVERY_CODES_REPLACED,
                actor=account_actor(account),
                booking="",
                record=record_of(account.id),
                at=self.clock(),
                client=client.address,
                agent=client.agent,
            )
        return codes

    async def codes_left(self, account: Account) -> int:
        return int(
            await StaffRecoveryCode.count().where(
                StaffRecoveryCode.account == account.id, StaffRecoveryCode.used_at.is_null()
            )
        )

    async def _store_codes(self, account_id: int, codes: list[str]) -> None:
        await StaffRecoveryCode.delete().where(StaffRecoveryCode.account == account_id)
        await StaffRecoveryCode.insert(
            *(
                StaffRecoveryCode(account=account_id, code_hash=recovery_code_hash(code))
                for code in codes
            )
        )


def account_actor(account: Account) -> audit.Actor:
    return audit.Actor.staff(account.id)


async def rotate_second_factor_keys(keyring: Keyring) -> int:
    """Re-seals every TOTP secret (confirmed or pending) under the keyring's first key, as
    `booking rotate-keys` does for intake answers; returns how many were re-sealed."""
    rows = await StaffAccount.select(
        StaffAccount.id, StaffAccount.totp_secret, StaffAccount.totp_pending
    ).where((StaffAccount.totp_secret != "") | (StaffAccount.totp_pending != ""))
    rotated = 0
    for row in rows:
        changes: dict[Column | str, Any] = {}
        for column, context in (
            (StaffAccount.totp_secret, totp_context(row["id"])),
            (StaffAccount.totp_pending, pending_context(row["id"])),
        ):
            token = row[column._meta.name]
            if token and keyring.needs_rotation(token):
                changes[column] = keyring.reencrypt(token, context)
        if changes:
            await StaffAccount.update(changes).where(StaffAccount.id == row["id"])
            rotated += 1
    return rotated
