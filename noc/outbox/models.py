"""The outbox table: every message noc sends out, queued in the transaction that caused it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from noc.core.columns import one_of
from noc.core.db import Base, UTCDateTime, utcnow

OutboxState = Literal["pending", "sent", "dead", "withdrawn"]
OUTBOX_STATES: tuple[str, ...] = get_args(OutboxState)


def safe_destination(destination: str) -> str:
    """``destination`` fit for logs: a URL without credentials, path or query; an address without its local part."""
    parts = urlsplit(destination)
    if parts.scheme and parts.hostname:
        port = f":{parts.port}" if parts.port else ""
        rest = "/…" if parts.path.strip("/") or parts.query else ""
        return f"{parts.scheme}://{parts.hostname}{port}{rest}"
    if "@" in destination:
        return "…@" + destination.rpartition("@")[2]
    return "…"


class OutboxMessage(Base):
    """One outgoing message on a channel ('webhook', 'email') and its delivery state."""

    __tablename__ = "outbox"
    __table_args__ = (
        one_of("state", OUTBOX_STATES, "state"),
        Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_outbox_topic_state", "topic", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(2048))
    payload: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    topic: Mapped[str | None] = mapped_column(String(120))
    """What the message belongs to (e.g. one maintenance notice sent to many), for progress counts."""
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def data(self) -> dict[str, Any]:
        """The payload as a dict."""
        value: dict[str, Any] = json.loads(self.payload)
        return value

    def __repr__(self) -> str:
        # Neither the payload (personal data) nor the full destination (may carry a token).
        return (f"<OutboxMessage {self.id} {self.channel} to {safe_destination(self.destination)} "
                f"{self.state} attempts={self.attempts}>")
