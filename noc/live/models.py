"""Tables of live CPE sessions and the readings streamed in them (kept as evidence for later complaints)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from noc.core.columns import one_of
from noc.core.db import Base, UTCDateTime, utcnow

STATES = ("open", "closed", "expired")
READING_STATES = ("ok", "no_answer")


OBJECT = "live_session"
"""The audit log's object type of a live session."""


class LiveSession(Base):
    """One agent's time-boxed look at one subscriber's CPE, opened for an identified caller's reported problem."""

    __tablename__ = "live_sessions"
    __table_args__ = (
        one_of("state", STATES, "state"),
        Index("ix_live_sessions_state_expires", "state", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, index=True)
    """The agent's user id (auth's users.id)."""
    agent: Mapped[str] = mapped_column(String(64))
    agent_role: Mapped[str] = mapped_column(String(32))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"), index=True)
    cpe_id: Mapped[int] = mapped_column(ForeignKey("cpes.id", ondelete="CASCADE"), index=True)
    caller_number: Mapped[str] = mapped_column(String(20))
    """The number the call came from, E.164 (it matched the contract's contact number)."""
    consent: Mapped[bool] = mapped_column(Boolean)
    contact_ref: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(8), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    """The agent's description of the work (mandatory on close; empty when the session expired)."""


class LiveReading(Base):
    """One reading streamed in a session: the CPE's state, graded, with hints and network context (JSON)."""

    __tablename__ = "live_readings"
    __table_args__ = (one_of("state", READING_STATES, "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10))
    grade: Mapped[str] = mapped_column(String(10))
    """Worst verdict of the reading (good / marginal / bad), or ``none`` when the CPE did not answer."""
    reading: Mapped[str] = mapped_column(Text)
