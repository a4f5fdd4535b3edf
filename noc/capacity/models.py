"""Tables of segment utilization rollups."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from noc.core.columns import one_of
from noc.core.db import Base, UTCDateTime, utcnow
from noc.inventory.enums import DIRECTIONS


class SegmentRollup(Base):
    """One segment direction over one rollup period: mean, max and p95 of the raw utilization points."""

    __tablename__ = "segment_rollups"
    __table_args__ = (
        UniqueConstraint("segment_id", "direction", "start"),
        one_of("direction", DIRECTIONS, "direction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(4))
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    seconds: Mapped[int] = mapped_column(Integer)
    mean: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    p95: Mapped[float] = mapped_column(Float)
    mean_bps: Mapped[float] = mapped_column(Float)
    capacity_bps: Mapped[float] = mapped_column(Float)
    points: Mapped[int] = mapped_column(Integer)


class SegmentLatest(Base):
    """The newest utilization point of one segment direction (what the dashboards call "now")."""

    __tablename__ = "segment_latest"
    __table_args__ = (one_of("direction", DIRECTIONS, "direction"),)

    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True)
    direction: Mapped[str] = mapped_column(String(4), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    utilization: Mapped[float] = mapped_column(Float)
    bps: Mapped[float] = mapped_column(Float)
    capacity_bps: Mapped[float] = mapped_column(Float)


TICKET_STATES = ("open", "acknowledged", "in_progress", "resolved", "rejected")
ACTIVE_STATES = ("open", "acknowledged", "in_progress")
RULE_KINDS = ("sustained", "busy_hour_p95", "forecast")
ACTIVE_SQL = "state IN ('open', 'acknowledged', 'in_progress')"


class UpgradeTicket(Base):
    """An upgrade a segment direction needs, raised by a rule; at most one active per segment, direction, rule."""

    __tablename__ = "upgrade_tickets"
    __table_args__ = (
        one_of("state", TICKET_STATES, "state"),
        one_of("rule", RULE_KINDS, "rule"),
        one_of("direction", DIRECTIONS, "direction"),
        Index("uq_upgrade_tickets_active", "segment_id", "direction", "rule", unique=True,
              sqlite_where=text(ACTIVE_SQL), postgresql_where=text(ACTIVE_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(4))
    rule: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(12), default="open", index=True)
    priority: Mapped[str] = mapped_column(String(12))
    detail: Mapped[str] = mapped_column(Text, default="")
    threshold: Mapped[float] = mapped_column(Float)
    first_value: Mapped[float] = mapped_column(Float)
    latest_peak: Mapped[float] = mapped_column(Float)
    breach_count: Mapped[int] = mapped_column(Integer, default=1)
    last_breach_at: Mapped[datetime] = mapped_column(UTCDateTime)
    predicted_date: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_capacity_mbps: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[list[TicketEvidence]] = relationship(
        cascade="all, delete-orphan", order_by="TicketEvidence.start", lazy="selectin")


class TicketEvidence(Base):
    """A copy of a rollup that justified a ticket (kept even if rollups are pruned later)."""

    __tablename__ = "ticket_evidence"
    __table_args__ = (UniqueConstraint("ticket_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("upgrade_tickets.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    seconds: Mapped[int] = mapped_column(Integer)
    mean: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    p95: Mapped[float] = mapped_column(Float)
    capacity_bps: Mapped[float] = mapped_column(Float)
