"""Tables of the audit log and its chain head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from noc.core.db import Base, UTCDateTime


class AuditEntry(Base):
    """One audited event; ``digest`` chains it to the entry before (``prev_digest``)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_digest: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    keyed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """False for entries written before the chain was keyed (plain SHA-256)."""


class AuditHead(Base):
    """The single row holding the chain's last sequence number and digest.

    Appends update it first, which takes a row lock (PostgreSQL) or the write lock (SQLite), so
    concurrent writers extend one linear chain.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """Where the chain starts after the retention job removed its oldest entries: the last removed entry's
    number, digest and keying, tagged with the chain's key (a forged checkpoint fails ``noc audit verify``).

    One row (``id`` 1), moved forward at each cut.
    """

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(String(64))
    keyed: Mapped[bool] = mapped_column(Boolean)
    """Whether the last removed entry was keyed (no unkeyed entry may follow it)."""
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    tag: Mapped[str] = mapped_column(String(64))
