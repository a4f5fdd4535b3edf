"""Creating, changing and cancelling maintenance windows, and finding the windows that cover a segment."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.audit.service import record
from noc.core.db import utcnow
from noc.core.errors import Conflict, InvalidInput
from noc.core.security import Actor
from noc.inventory.models import Segment
from noc.maintenance.models import MaintenanceWindow, window_segments


class WindowIn(BaseModel):
    """A window as given by a NOC engineer; segments by name; times with a UTC offset."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    segments: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        return self


def _segments(session: Session, names: list[str]) -> list[Segment]:
    found = {s.name: s for s in session.scalars(select(Segment).where(Segment.name.in_(names)))}
    for i, name in enumerate(names):
        if name not in found:
            raise InvalidInput(f"segments.{i}", f"no segment {name!r}")
    return [found[n] for n in dict.fromkeys(names)]


def create_window(session: Session, data: WindowIn, actor: Actor, reason: str = "") -> MaintenanceWindow:
    """Record a window (audited)."""
    window = MaintenanceWindow(title=data.title, reason=data.reason, starts_at=data.starts_at, ends_at=data.ends_at,
                               created_by=actor.name, segments=_segments(session, data.segments))
    session.add(window)
    session.flush()
    record(session, actor, "maintenance.create", "maintenance_window", str(window.id), reason=reason,
           details={"segments": data.segments, "starts_at": data.starts_at, "ends_at": data.ends_at})
    return window


def update_window(session: Session, window: MaintenanceWindow, data: WindowIn, actor: Actor,
                  reason: str = "") -> MaintenanceWindow:
    """Replace a window's fields (audited); a cancelled window cannot change."""
    if window.cancelled_at is not None:
        raise Conflict("id", "the window is cancelled")
    window.title, window.reason = data.title, data.reason
    window.starts_at, window.ends_at = data.starts_at, data.ends_at
    window.segments = _segments(session, data.segments)
    record(session, actor, "maintenance.update", "maintenance_window", str(window.id), reason=reason,
           details={"segments": data.segments, "starts_at": data.starts_at, "ends_at": data.ends_at})
    return window


def cancel_window(session: Session, window: MaintenanceWindow, actor: Actor, reason: str = "") -> MaintenanceWindow:
    """Cancel a window (audited); it no longer covers anything."""
    if window.cancelled_at is None:
        window.cancelled_at = utcnow()
        record(session, actor, "maintenance.cancel", "maintenance_window", str(window.id), reason=reason)
    return window


def ancestors(session: Session, segment_id: int) -> list[int]:
    """The segment and every segment above it in the tree."""
    chain, current = [], session.get(Segment, segment_id)
    while current is not None and current.id not in chain:
        chain.append(current.id)
        current = session.get(Segment, current.parent_id) if current.parent_id is not None else None
    return chain


def covering(session: Session, segment_id: int, start: datetime, end: datetime) -> list[MaintenanceWindow]:
    """Live windows overlapping [start, end) on the segment or any segment above it (works upstream
    disturb everything below)."""
    query = (select(MaintenanceWindow).join(window_segments)
             .where(window_segments.c.segment_id.in_(ancestors(session, segment_id)),
                    MaintenanceWindow.cancelled_at.is_(None),
                    MaintenanceWindow.starts_at < end, MaintenanceWindow.ends_at > start)
             .distinct())
    return list(session.scalars(query))
