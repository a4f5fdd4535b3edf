"""Tables of segment utilization rollups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from noc.db import Base, UTCDateTime
from noc.inventory.enums import DIRECTIONS
from noc.inventory.models import one_of


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
