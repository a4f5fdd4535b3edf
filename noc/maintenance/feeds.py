"""Public feeds of upcoming and ongoing works and outages for the operator's status page: JSON and iCalendar.

They say what, where (segment names), when and how badly — never who (no subscribers, no engineers, no
internal reasons)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from noc.maintenance import ics
from noc.maintenance.models import MaintenanceWindow
from noc.maintenance.service import content


def upcoming(session: Session, now: datetime) -> list[MaintenanceWindow]:
    """Planned works not over yet and outages not resolved, not cancelled, soonest first."""
    query = (select(MaintenanceWindow)
             .where(MaintenanceWindow.cancelled_at.is_(None),
                    or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > now))
             .order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id))
    return list(session.scalars(query))


def as_json(windows: list[MaintenanceWindow]) -> dict[str, Any]:
    """The JSON feed."""
    return {"items": [{"id": w.id, "kind": w.kind, "sequence": w.sequence, **content(w)} for w in windows]}


def as_calendar(windows: list[MaintenanceWindow], mail_from: str) -> bytes:
    """The iCalendar feed: one event per window, with the same UID and SEQUENCE as in the notices' attachments."""
    events = []
    for window in windows:
        fields = content(window)
        text = "\n\n".join(d for d in (window.description_sl, window.description_en) if d)
        events.append(ics.event(window.id, window.sequence, fields, window.title, text, mail_from=mail_from,
                                stamp=window.created_at))
    return ics.calendar(events, "PUBLISH")
