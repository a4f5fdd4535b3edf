"""Tables of maintenance windows (planned works and unplanned outages), the segments they cover, and the
notices sent about them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from noc.core.columns import one_of
from noc.core.db import Base, UTCDateTime, utcnow
from noc.inventory.models import Segment

WindowKind = Literal["planned", "outage"]
Impact = Literal["outage", "degraded"]
NoticeKind = Literal["announcement", "reminder", "update", "cancellation", "completion", "outage_start",
                     "outage_resolved"]
Audience = Literal["affected", "reached", "dropped"]
"""Who a notice goes to: the subscribers affected now; those an earlier notice of the window reached; those it
reached who are no longer affected (segments taken off the window)."""

WINDOW_KINDS: tuple[str, ...] = get_args(WindowKind)
IMPACTS: tuple[str, ...] = get_args(Impact)
NOTICE_KINDS: tuple[str, ...] = get_args(NoticeKind)
AUDIENCES: tuple[str, ...] = get_args(Audience)

window_segments = Table(
    "maintenance_window_segments",
    Base.metadata,
    Column("window_id", ForeignKey("maintenance_windows.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_id", ForeignKey("segments.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class MaintenanceWindow(Base):
    """Works on some segments (and everything below them in the tree) between two instants: planned in advance,
    or an outage declared when it happens (its end is unknown until it is resolved)."""

    __tablename__ = "maintenance_windows"
    __table_args__ = (one_of("kind", WINDOW_KINDS, "kind"), one_of("impact", IMPACTS, "impact"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), default="planned", server_default="planned")
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(String(8), default="outage", server_default="outage")
    description_sl: Mapped[str] = mapped_column(Text, default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Raised by every change subscribers are told about (the SEQUENCE of its calendar event)."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    segments: Mapped[list[Segment]] = relationship(secondary=window_segments, lazy="selectin", order_by=Segment.id)

    @property
    def category(self) -> str:
        """The subscribers' notice category (opt-outs are per category): planned works or network problems."""
        return "maintenance" if self.kind == "planned" else "network_issues"


class Notice(Base):
    """One thing subscribers are told about a window (its content as it was then), and how far queueing the
    mails to its audience has come; each mail is an outbox message of topic :attr:`topic`."""

    __tablename__ = "maintenance_notices"
    __table_args__ = (
        one_of("kind", NOTICE_KINDS, "kind"),
        one_of("audience", AUDIENCES, "audience"),
        UniqueConstraint("window_id", "kind", "sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("maintenance_windows.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sequence: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(8))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The window as subscribers are told: title, impact, descriptions, times (ISO), segments."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    """When every mail of the notice was queued (or queueing stopped, see ``note``); None while it goes on."""
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    """Subscribers up to this id have been considered."""
    audience_size: Mapped[int] = mapped_column(Integer, default=0)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    opted_out: Mapped[int] = mapped_column(Integer, default=0)
    no_email: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(Text, default="")

    @property
    def topic(self) -> str:
        """The outbox topic of this notice's mails; a mail's key is the topic and the subscriber id."""
        return f"maintenance:{self.window_id}:{self.kind}:{self.sequence}"
