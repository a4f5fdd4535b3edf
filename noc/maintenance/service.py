"""Planning, changing and cancelling maintenance windows, declaring and resolving outages, and finding the
windows that cover a segment. Every change subscribers must hear of records a :class:`Notice` in the same
transaction; :mod:`noc.maintenance.notices` queues its mails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from noc.audit.service import record
from noc.core.db import utcnow
from noc.core.errors import Conflict, InvalidInput, NotFound
from noc.core.security import Actor
from noc.core.settings import Settings
from noc.inventory.models import Segment
from noc.maintenance.models import Audience, Impact, MaintenanceWindow, Notice, NoticeKind, window_segments

Description = Annotated[str, StringConstraints(max_length=4000)]


@dataclass(frozen=True)
class NoticePolicy:
    """How far ahead subscribers are told: the minimum lead time of planned works and the reminder before them."""

    lead_time: timedelta = timedelta(hours=48)
    reminder: timedelta = timedelta(hours=24)
    timezone: str = "Europe/Ljubljana"

    @classmethod
    def from_settings(cls, settings: Settings) -> NoticePolicy:
        """The policy the settings give."""
        return cls(lead_time=timedelta(hours=settings.maintenance_lead_time_h),
                   reminder=timedelta(hours=settings.maintenance_reminder_h), timezone=settings.timezone)

    def today(self, now: datetime | None = None) -> date:
        """The operator's local date (contracts run by local dates)."""
        return (now or utcnow()).astimezone(ZoneInfo(self.timezone)).date()


class OutageIn(BaseModel):
    """An outage as an engineer declares it: it starts now; segments by name."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    reason: Annotated[str, StringConstraints(max_length=2000)] = ""
    segments: list[str] = Field(min_length=1)
    impact: Impact = "outage"
    description_sl: Description = ""
    description_en: Description = ""


class WindowIn(OutageIn):
    """Planned works as given by a NOC engineer: times with a UTC offset; ``emergency`` (with a ``reason``)
    lets works start within the minimum lead time."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    emergency: bool = False

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at: must be after starts_at")
        if self.emergency and not self.reason:
            raise ValueError("reason: an emergency window needs a reason")
        return self


CONTENT_FIELDS = ("title", "impact", "description_sl", "description_en", "starts_at", "ends_at")
"""What subscribers are told about a window (with its segments): a change to one of them is an update."""


def content(window: MaintenanceWindow) -> dict[str, Any]:
    """The window as a notice tells it (times as ISO strings)."""
    values: dict[str, Any] = {f: getattr(window, f) for f in CONTENT_FIELDS}
    for name in ("starts_at", "ends_at"):
        values[name] = values[name].isoformat() if values[name] is not None else None
    return {**values, "segments": [s.name for s in window.segments]}


def add_notice(session: Session, window: MaintenanceWindow, kind: NoticeKind, audience: Audience) -> Notice:
    """Record a notice of ``window`` as it is now; its mails are queued by the notice job."""
    notice = Notice(window_id=window.id, kind=kind, sequence=window.sequence, category=window.category,
                    audience=audience, content=content(window), cursor=0, audience_size=0, queued=0, opted_out=0,
                    no_email=0, note="")
    session.add(notice)
    session.flush()
    return notice


def find_window(session: Session, window_id: int) -> MaintenanceWindow:
    """The window or outage ``window_id``."""
    window = session.get(MaintenanceWindow, window_id)
    if window is None:
        raise NotFound("id", f"no maintenance window with id {window_id}")
    return window


def _segments(session: Session, names: list[str]) -> list[Segment]:
    found = {s.name: s for s in session.scalars(select(Segment).where(Segment.name.in_(names)))}
    for i, name in enumerate(names):
        if name not in found:
            raise InvalidInput(f"segments.{i}", f"no segment {name!r}")
    return [found[n] for n in dict.fromkeys(names)]


def _check_lead_time(data: WindowIn, policy: NoticePolicy, now: datetime) -> None:
    earliest = now + policy.lead_time
    if data.starts_at < earliest and not data.emergency:
        hours = policy.lead_time.total_seconds() / 3600
        raise InvalidInput("starts_at", f"planned works need {hours:g} h notice: start at "
                           f"{earliest.replace(microsecond=0).isoformat()} or later, or set emergency: true with a "
                           "reason")


def _audit_details(data: WindowIn | OutageIn, window: MaintenanceWindow) -> dict[str, Any]:
    return {"segments": data.segments, "kind": window.kind, "starts_at": window.starts_at, "ends_at": window.ends_at,
            "emergency": window.emergency, "sequence": window.sequence}


def _new_window(session: Session, data: WindowIn | OutageIn, actor: Actor, reason: str, *, kind: str,
                starts_at: datetime, ends_at: datetime | None, emergency: bool) -> MaintenanceWindow:
    window = MaintenanceWindow(kind=kind, title=data.title, reason=data.reason, impact=data.impact,
                               description_sl=data.description_sl, description_en=data.description_en,
                               emergency=emergency, starts_at=starts_at, ends_at=ends_at, sequence=0,
                               created_by=actor.name, segments=_segments(session, data.segments))
    session.add(window)
    session.flush()
    add_notice(session, window, "announcement" if kind == "planned" else "outage_start", "affected")
    record(session, actor, "maintenance.create" if kind == "planned" else "maintenance.outage", "maintenance_window",
           str(window.id), reason=reason, details=_audit_details(data, window))
    return window


def create_window(session: Session, data: WindowIn, actor: Actor, reason: str = "", *,
                  policy: NoticePolicy | None = None, now: datetime | None = None) -> MaintenanceWindow:
    """Plan works (audited) and announce them to the affected subscribers; refused when they start within the
    policy's lead time, unless declared an emergency."""
    _check_lead_time(data, policy or NoticePolicy(), now or utcnow())
    return _new_window(session, data, actor, reason, kind="planned", starts_at=data.starts_at, ends_at=data.ends_at,
                       emergency=data.emergency)


def _check_open(window: MaintenanceWindow, now: datetime, action: str) -> None:
    if window.cancelled_at is not None:
        raise Conflict("id", "the window is cancelled")
    if window.kind != "planned":
        raise Conflict("id", f"an outage cannot be {action}: resolve it")
    if window.ends_at is not None and window.ends_at <= now:
        raise Conflict("id", "the window has ended")


def update_window(session: Session, window: MaintenanceWindow, data: WindowIn, actor: Actor, reason: str = "", *,
                  policy: NoticePolicy | None = None, now: datetime | None = None) -> MaintenanceWindow:
    """Replace a window's fields (audited). A change subscribers were told about raises the window's sequence
    and sends an update to the affected subscribers, and a cancellation to those the window no longer affects;
    a new start within the lead time needs ``emergency``. Cancelled, ended windows and outages cannot change."""
    now = now or utcnow()
    _check_open(window, now, "rescheduled")
    if data.starts_at != window.starts_at:
        _check_lead_time(data, policy or NoticePolicy(), now)
    before = content(window)
    segments = _segments(session, data.segments)
    dropped = {s.id for s in window.segments} - {s.id for s in segments}
    window.title, window.reason, window.impact = data.title, data.reason, data.impact
    window.description_sl, window.description_en = data.description_sl, data.description_en
    window.starts_at, window.ends_at, window.emergency = data.starts_at, data.ends_at, data.emergency
    window.segments = segments
    if content(window) != before:
        window.sequence += 1
        add_notice(session, window, "update", "affected")
        if dropped:
            add_notice(session, window, "cancellation", "dropped")
    record(session, actor, "maintenance.update", "maintenance_window", str(window.id), reason=reason,
           details=_audit_details(data, window))
    return window


def cancel_window(session: Session, window: MaintenanceWindow, actor: Actor, reason: str = "", *,
                  now: datetime | None = None) -> MaintenanceWindow:
    """Cancel planned works (audited): the window no longer covers anything, and the subscribers an earlier
    notice reached are told. Cancelling twice changes nothing."""
    if window.cancelled_at is not None:
        return window
    now = now or utcnow()
    _check_open(window, now, "cancelled")
    window.cancelled_at = now
    window.sequence += 1
    add_notice(session, window, "cancellation", "reached")
    record(session, actor, "maintenance.cancel", "maintenance_window", str(window.id), reason=reason)
    return window


def declare_outage(session: Session, data: OutageIn, actor: Actor, reason: str = "", *,
                   now: datetime | None = None) -> MaintenanceWindow:
    """Record an unplanned outage starting now (audited) and tell the affected subscribers."""
    return _new_window(session, data, actor, reason, kind="outage", starts_at=now or utcnow(), ends_at=None,
                       emergency=False)


def resolve_outage(session: Session, window: MaintenanceWindow, actor: Actor, reason: str = "", *,
                   now: datetime | None = None) -> MaintenanceWindow:
    """End an outage now (audited) and tell the subscribers its start notice reached; resolving twice changes
    nothing."""
    if window.kind != "outage":
        raise Conflict("id", "planned works are not resolved: they end at ends_at, or are cancelled")
    if window.ends_at is not None:
        return window
    window.ends_at = now or utcnow()
    window.sequence += 1
    add_notice(session, window, "outage_resolved", "reached")
    record(session, actor, "maintenance.resolve", "maintenance_window", str(window.id), reason=reason,
           details={"ends_at": window.ends_at})
    return window


def ancestors(session: Session, segment_id: int) -> list[int]:
    """The segment and every segment above it in the tree."""
    chain, current = [], session.get(Segment, segment_id)
    while current is not None and current.id not in chain:
        chain.append(current.id)
        current = session.get(Segment, current.parent_id) if current.parent_id is not None else None
    return chain


def covering(session: Session, segment_id: int, start: datetime, end: datetime) -> list[MaintenanceWindow]:
    """Live windows and outages overlapping [start, end) on the segment or any segment above it (works upstream
    disturb everything below); an unresolved outage lasts until now and beyond."""
    query = (select(MaintenanceWindow).join(window_segments)
             .where(window_segments.c.segment_id.in_(ancestors(session, segment_id)),
                    MaintenanceWindow.cancelled_at.is_(None),
                    MaintenanceWindow.starts_at < end,
                    or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > start))
             .distinct())
    return list(session.scalars(query))
