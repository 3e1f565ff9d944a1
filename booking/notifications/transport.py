"""Where messages go: an SMTP server (SMTP_URL), or one .eml file each in the data directory."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

SMTP_TIMEOUT_SECONDS = 60


class DeliveryError(Exception):
    """Sending failed; `permanent` says whether trying again can help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        """Deliver `message` to exactly `recipient` (the SMTP envelope), never to whatever
        its headers say."""
        ...


class SmtpTransport:
    """smtp://[user:password@]host[:port][?starttls=1] or smtps://… (implicit TLS)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        self.hostname = parts.hostname or "localhost"
        self.use_tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.use_tls else 25)
        self.start_tls = query.get("starttls", ["0"])[0] in ("1", "true", "yes")
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        try:
            # The envelope is given, not read from the To/Cc/Bcc headers: only the address
            # stored for this recipient ever receives the message.
            await aiosmtplib.send(
                message,
                sender=sender,
                recipients=[recipient],
                hostname=self.hostname,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.use_tls,
                start_tls=self.start_tls,
                timeout=SMTP_TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryError(
                f"recipients refused: {', '.join(str(c) for c in codes)}",
                permanent=all(500 <= c < 600 for c in codes),
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            # 4xx: the server asks us to come back later; 5xx: it will never take this message.
            raise DeliveryError(
                f"SMTP {exc.code}: {exc.message}"[:500], permanent=500 <= exc.code < 600
            ) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}"[:500], permanent=False) from None


class FileTransport:
    """Writes each message to `<directory>/<hash of Message-ID>.eml`; the same message twice
    is one file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> None:
        await asyncio.to_thread(self._write, message)

    def _write(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:32]
        target = self.directory / f"{name}.eml"
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".eml-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(message.as_bytes())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def transport_for(smtp_url: str | None, mail_directory: Path) -> Transport:
    return SmtpTransport(smtp_url) if smtp_url else FileTransport(mail_directory)
