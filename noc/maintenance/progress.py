"""Where a window stands, whom it reaches and how its notices are going: what the API and the console show."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from noc.inventory.models import Segment
from noc.inventory.service import counts_by_segment, subscribers_on
from noc.maintenance.models import MaintenanceWindow
from noc.maintenance.notices import affected_segments, notices_of
from noc.outbox.service import counts_by_topic

Status = Literal["scheduled", "in_progress", "completed", "cancelled", "ongoing", "resolved"]


def status(window: MaintenanceWindow, now: datetime) -> Status:
    """Where a window stands now."""
    if window.kind == "outage":
        return "ongoing" if window.ends_at is None else "resolved"
    if window.cancelled_at is not None:
        return "cancelled"
    if now < window.starts_at:
        return "scheduled"
    return "in_progress" if window.ends_at is None or now < window.ends_at else "completed"


def affected(s: Session, window: MaintenanceWindow, today: date) -> tuple[dict[str, Any], dict[int, str]]:
    """The subscribers ``window`` reaches on ``today``: totals (``total``, ``notify``, ``opted_out``,
    ``no_email``) and the same per segment (``segments``, by name); with the names of the affected segments by id."""
    segments = affected_segments(s, window)
    names = dict(s.execute(select(Segment.id, Segment.name).where(Segment.id.in_(segments))).all())
    per_segment = counts_by_segment(s, segments, today, window.category)
    found = subscribers_on(segments, today, window.category).subquery()
    totals = s.execute(select(func.count(), func.count().filter(found.c.opted_out),
                              func.count().filter(and_(~found.c.opted_out, found.c.email == "")))).one()
    total, opted_out, no_email = (int(v) for v in totals)
    return {
        "total": total, "notify": total - opted_out - no_email, "opted_out": opted_out, "no_email": no_email,
        "segments": [{"segment": names[sid], **c, "notify": c["subscribers"] - c["opted_out"] - c["no_email"]}
                     for sid, c in sorted(per_segment.items(), key=lambda item: names[item[0]])],
    }, names


def notice_progress(s: Session, window_id: int) -> list[dict[str, Any]]:
    """The window's notices, oldest first, with their audience and how their mails are going (``queued``, ``sent``,
    ``failed``: dead letters, ``withdrawn``)."""
    notices = list(notices_of(s, window_id))
    counts = counts_by_topic(s, [n.topic for n in notices])
    return [{
        "id": n.id, "kind": n.kind, "sequence": n.sequence, "category": n.category, "audience": n.audience,
        "created_at": n.created_at, "queued_at": n.queued_at, "note": n.note,
        "subscribers": n.audience_size, "opted_out": n.opted_out, "no_email": n.no_email,
        "queued": counts[n.topic].get("pending", 0), "sent": counts[n.topic].get("sent", 0),
        "failed": counts[n.topic].get("dead", 0), "withdrawn": counts[n.topic].get("withdrawn", 0),
    } for n in notices]
