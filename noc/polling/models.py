"""The last poll result of every polled device and CPE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from noc.core.columns import one_of
from noc.core.db import Base, UTCDateTime

TARGET_KINDS = ("device", "cpe")


class PollStatus(Base):
    """What the newest poll of one device or CPE gave: when, how long, ok or the error."""

    __tablename__ = "poll_status"
    __table_args__ = (one_of("target_kind", TARGET_KINDS, "target_kind"),)

    target_kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    target_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    duration_s: Mapped[float] = mapped_column(Float)
    error: Mapped[str] = mapped_column(Text, default="")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invalid_readings: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Objects the newest poll answered outside their type's range (left out of its samples)."""
    invalid_detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Which objects and rows, and why (the first few)."""


class CpeHealth(Base):
    """The newest fleet-health verdict of one CPE: overall grade and the readings outside the good range."""

    __tablename__ = "cpe_health"

    cpe_id: Mapped[int] = mapped_column(ForeignKey("cpes.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    grade: Mapped[str] = mapped_column(String(12), index=True)
    findings: Mapped[str] = mapped_column(Text, default="[]")
