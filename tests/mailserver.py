"""A real SMTP server in the test process (aiosmtpd), that keeps what it receives.

Tests script its answers (`respond`), hold a message before answering (`hold_next`), and
wait for deliveries with `wait_for`, which returns as soon as enough messages arrived.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class MailServer:
    port: int
    received: list[Received] = field(default_factory=list)
    # Answers to give instead of accepting, consumed one per message ("451 ...", "550 ...").
    answers: list[str] = field(default_factory=list)
    attempts: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    hold: bool = False
    # hold_next(count, after): messages still answered as usual before holding starts, and
    # messages still to hold; `holding` is set once the last of them is waiting.
    hold_after: int = 0
    hold_count: int = 1

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def respond(self, *answers: str) -> None:
        self.answers.extend(answers)

    def hold_next(self, count: int = 1, after: int = 0) -> None:
        """The next message is kept waiting (no answer) until `release` is set.

        `count` messages are held (each one connection), once `after` more have been answered
        as usual; `holding` is set when the last of them is waiting. Held messages are
        answered "451" on release: the server never accepted them.
        """
        if count < 1 or after < 0:
            raise ValueError("hold at least one message, after zero or more")
        self.hold_count = count
        self.hold_after = after
        self.hold = True
        self.release.clear()
        self.holding.clear()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        with self.condition:
            self.condition.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)

    def wait_for_attempts(self, count: int, timeout: float = 30.0) -> int:
        with self.condition:
            self.condition.wait_for(lambda: self.attempts >= count, timeout=timeout)
            return self.attempts

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.condition:
            self.attempts += 1
            self.condition.notify_all()
        if self.hold and self.hold_after > 0:
            self.hold_after -= 1
        elif self.hold:
            self.hold_count -= 1
            if self.hold_count == 0:
                self.hold = False
                self.holding.set()
            await asyncio.to_thread(self.release.wait, 60)
            return "451 4.3.0 Held by the test, try again"
        if self.answers:
            return self.answers.pop(0)
        with self.condition:
            self.received.append(Received(list(envelope.rcpt_tos), bytes(envelope.content)))
            self.condition.notify_all()
        return "250 2.0.0 Accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_mail_server() -> Iterator[MailServer]:
    server = MailServer(port=free_port())
    controller = Controller(server, hostname="127.0.0.1", port=server.port)
    controller.start()
    try:
        yield server
    finally:
        server.release.set()
        controller.stop()
