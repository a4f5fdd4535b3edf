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
