"""Internal notes on a booking: the practice's own, encrypted like intake answers, never
shown to the couple; writing one and reading each are audit rows (never their text)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.bookings.tables import Booking
from booking.core.audit import AuditAction
from booking.core.crypto import Keyring
from booking.core.db import write_transaction
from booking.core.errors import NotFound, ValidationFailed
from booking.core.timezones import Clock
from booking.staff.access import Origin, record, require_admin
from booking.staff.principal import StaffPrincipal
from booking.staff.tables import ReviewNote

MAX_NOTE_LENGTH = 5000


def note_context(reference: str) -> str:
    """Associated data binding a note's ciphertext to its booking."""
    return f"review:{reference}:note"


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    author: str  # the audit label of who wrote it: "staff:7"
    text: str
    created_at: datetime


def clean_note(text: str) -> str:
    """The note as stored: trimmed, 1 to MAX_NOTE_LENGTH characters, or ValidationFailed."""
    cleaned = text.strip()
    if not cleaned:
        raise ValidationFailed.on("text", "Write the note first.")
    if len(cleaned) > MAX_NOTE_LENGTH:
        raise ValidationFailed.on("text", f"A note may be at most {MAX_NOTE_LENGTH} characters.")
    if any(ord(c) < 32 and c not in "\n\t\r" for c in cleaned):
        raise ValidationFailed.on("text", "The note holds a control character.")
    return cleaned


class NoteService:
    def __init__(self, keyring: Keyring, clock: Clock) -> None:
        self.keyring = keyring
        self.clock = clock

    async def add(
        self,
        principal: StaffPrincipal,
        reference: str,
        text: str,
        origin: Origin = Origin(),  # noqa: B008 (frozen: one shared default is safe)
    ) -> Note:
        """Keep a note on booking `reference`; audited (which note, never its text)."""
        require_admin(principal)
        cleaned = clean_note(text)
        reference = reference.strip().upper()
        async with write_transaction():
            now = self.clock()
            booking = (
                await Booking.select(Booking._meta.primary_key, Booking.erased_at)
                .where(Booking.reference == reference)
                .first()
            )
            if booking is None or booking["erased_at"] is not None:
                raise NotFound("No booking has this reference.")
            (row,) = await ReviewNote.insert(
                ReviewNote(
                    booking=booking["id"],
                    author=principal.actor.label,
                    body=self.keyring.encrypt(cleaned.encode("utf-8"), note_context(reference)),
                    created_at=now,
                )
            ).returning(ReviewNote._meta.primary_key)
            note_id = int(row["id"])
            await record(
                AuditAction.NOTE_ADDED,
                principal,
                origin,
                booking=reference,
                record=f"note:{note_id}",
                at=now,
            )
        return Note(note_id, principal.actor.label, cleaned, now)

    async def read_all(self, booking_id: int, reference: str) -> list[Note]:
        """The booking's notes, oldest first, decrypted. The caller audits each read, in its
        own transaction (the consultation page, the export)."""
        rows = await (
            ReviewNote.select()
            .where(ReviewNote.booking == booking_id)
            .order_by(ReviewNote.created_at)
            .order_by(ReviewNote._meta.primary_key)
        )
        context = note_context(reference)
        return [
            Note(
                r["id"],
                r["author"],
                self.keyring.decrypt(r["body"], context).decode("utf-8"),
                r["created_at"],
            )
            for r in rows
        ]


async def rotate_note_keys(keyring: Keyring) -> int:
    """Re-encrypt every internal note not under the keyring's first key (`booking rotate-keys`);
    returns how many. Each note is its own small write, so an interrupted run can be repeated."""
    rows = await ReviewNote.select(
        ReviewNote._meta.primary_key, ReviewNote.body, ReviewNote.booking.reference
    )
    rotated = 0
    for row in rows:
        token = row["body"]
        if token and keyring.needs_rotation(token):
            context = note_context(row["booking.reference"])
            await ReviewNote.update({ReviewNote.body: keyring.reencrypt(token, context)}).where(
                ReviewNote._meta.primary_key == row["id"]
            )
            rotated += 1
    return rotated
