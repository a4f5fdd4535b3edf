"""A real SMTP server on loopback (aiosmtpd) that records what it accepts and refuses whom it is told to."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port


@dataclass(frozen=True)
class Received:
    """One mail the server accepted: the envelope recipients and the message as sent."""

    rcpt: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """The mail parsed with the modern policy."""
        parsed: EmailMessage = email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[assignment]
        return parsed


@dataclass
class MailServer:
    """State of the running server: ``refuse`` maps an address to the reply to its RCPT (e.g. ``550 5.1.1 no
    such user``); ``on_data`` runs (in the server's thread) before a mail is acknowledged."""

    host: str = "127.0.0.1"
    port: int = 0
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    on_data: Callable[[Received], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, address: str) -> list[EmailMessage]:
        """The mails accepted for ``address``."""
        with self.lock:
            return [r.message for r in self.received if address in r.rcpt]

    # aiosmtpd's handler interface
    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        received = Received(tuple(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content))
        with self.lock:
            self.received.append(received)
        if self.on_data is not None:
            self.on_data(received)
        return "250 OK"


@contextmanager
def mail_server(port: int | None = None) -> Iterator[MailServer]:
    """A running :class:`MailServer` on ``port`` of loopback (default: a free one)."""
    state = MailServer(port=port or free_port())
    controller = Controller(state, hostname=state.host, port=state.port)
    controller.start()
    try:
        yield state
    finally:
        controller.stop()
