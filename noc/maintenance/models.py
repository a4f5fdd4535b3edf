"""Tables of maintenance windows and the segments they cover."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from noc.core.db import Base, UTCDateTime, utcnow
from noc.inventory.models import Segment

window_segments = Table(
    "maintenance_window_segments",
    Base.metadata,
    Column("window_id", ForeignKey("maintenance_windows.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_id", ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class MaintenanceWindow(Base):
    """Planned works on some segments (and everything below them in the tree) between two instants."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    segments: Mapped[list[Segment]] = relationship(secondary=window_segments, lazy="selectin", order_by=Segment.id)
