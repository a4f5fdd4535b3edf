"""The e-mail channel: compose each queued message and hand it to an SMTP server, at a set pace.

The outbox row's ``destination`` is the recipient's address; what the mail says is the producer's business:
the sender calls the producer's ``compose`` with the row and sends what it returns.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.utils import parseaddr

from noc.core.settings import Settings
from noc.outbox.models import OutboxMessage
from noc.outbox.service import SendError

log = logging.getLogger("noc.outbox")

IDLE_CHECK_S = 5.0
"""A connection idle longer than this is checked with NOOP before it carries the next message."""

Composer = Callable[[OutboxMessage], Message]
"""Builds the mail of one queued message (may raise :class:`~noc.outbox.service.Withdrawn`)."""


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how mail is handed over."""

    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 30.0
    mail_from: str = "noc@localhost"

    def __repr__(self) -> str:  # never the password
        return (f"SmtpConfig(host={self.host!r}, port={self.port}, user={self.user!r}, starttls={self.starttls}, "
                f"mail_from={self.mail_from!r})")

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The configured server, or None when ``NOC_SMTP_HOST`` is unset."""
        if not settings.smtp_host:
            return None
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return cls(host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user, password=password,
                   starttls=settings.smtp_starttls, timeout_s=settings.smtp_timeout_s, mail_from=settings.mail_from)


def envelope_sender(mail_from: str) -> str:
    """The bare address of ``mail_from`` (which may carry a display name)."""
    return parseaddr(mail_from)[1] or mail_from


def is_retryable(code: int) -> bool:
    """Whether an SMTP reply code is a temporary failure (4xx) rather than a permanent one (5xx)."""
    return 400 <= code < 500


class SmtpSender:
    """A :data:`~noc.outbox.service.Sender` for channel 'email' over one kept-open SMTP connection.

    At most ``rate_per_s`` messages per second are handed over. A recipient or message refused with a 4xx reply
    is retried later, with 5xx it is final (a dead letter naming the reply). Failures that are not about the
    message (connection refused or lost, timeouts, a refused login or sender) are always retryable: they are
    the operator's to fix, not the recipient's.
    """

    def __init__(self, config: SmtpConfig, compose: Composer, *, rate_per_s: float | None = None) -> None:
        if rate_per_s is not None and rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        self.config = config
        self._compose = compose
        self._interval = 1.0 / rate_per_s if rate_per_s else 0.0
        self._next_slot = 0.0
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SmtpSender({self.config!r})"

    def __call__(self, message: OutboxMessage) -> None:
        """Compose ``message`` and send it to its destination; raises :class:`SendError` when not accepted."""
        mail = self._compose(message)
        with self._lock:
            self._pace()
            try:
                self._send(mail, message.destination)
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()), (451, b"refused"))
                raise SendError(is_retryable(code), f"recipient refused: {code} {_text(reply)}") from None
            except smtplib.SMTPDataError as exc:
                raise SendError(is_retryable(exc.smtp_code), f"message refused: {exc.smtp_code} "
                                f"{_text(exc.smtp_error)}") from None
            except smtplib.SMTPSenderRefused as exc:
                raise SendError(True, f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}") from None
            except smtplib.SMTPAuthenticationError as exc:
                self.close()
                raise SendError(True, f"SMTP login refused: {exc.smtp_code}") from None
            except (smtplib.SMTPException, OSError) as exc:
                self.close()
                raise SendError(True, f"SMTP {self.config.host}:{self.config.port} failed "
                                f"({type(exc).__name__}: {_text(str(exc))})") from None

    def _pace(self) -> None:
        now = time.monotonic()
        if self._next_slot > now:
            time.sleep(self._next_slot - now)
            now = self._next_slot
        self._next_slot = now + self._interval

    def _send(self, mail: Message, recipient: str) -> None:
        smtp = self._connection()
        smtp.send_message(mail, from_addr=envelope_sender(self.config.mail_from), to_addrs=[recipient])
        self._last_used = time.monotonic()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None and time.monotonic() - self._last_used > IDLE_CHECK_S:
            try:
                code = self._smtp.noop()[0]
            except (smtplib.SMTPException, OSError):
                code = 0
            if code != 250:
                self.close()
        if self._smtp is None:
            smtp = smtplib.SMTP(self.config.host, self.config.port, timeout=self.config.timeout_s)
            try:
                if self.config.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.config.user:
                    smtp.login(self.config.user, self.config.password or "")
            except BaseException:
                smtp.close()
                raise
            self._smtp = smtp
        return self._smtp

    def close(self) -> None:
        """Say QUIT (if the connection still answers) and forget the connection."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:300]
