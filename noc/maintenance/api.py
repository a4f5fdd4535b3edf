"""Maintenance endpoints: windows and outages, who they affect, how their notices go, and the public feeds."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import func, or_, select

from noc.core.db import utcnow
from noc.core.http import (
    ERROR_RESPONSES,
    ApiError,
    Id,
    Paging,
    ReadSessionDep,
    ReasonHeader,
    RuntimeDep,
    SessionDep,
    require,
)
from noc.core.inputs import DateTime
from noc.core.security import ALL_ROLES, NETWORK_EDITORS, NETWORK_READERS, PERSONAL_DATA_READERS, Principal
from noc.inventory.models import Segment, Subscriber
from noc.inventory.service import subscribers_on
from noc.maintenance import feeds
from noc.maintenance.models import MaintenanceWindow, Notice, window_segments
from noc.maintenance.progress import Status, affected, notice_progress, status
from noc.maintenance.service import (
    NoticePolicy,
    OutageIn,
    WindowIn,
    cancel_window,
    create_window,
    declare_outage,
    find_window,
    resolve_outage,
    update_window,
)
from noc.outbox.service import messages_of

router = APIRouter(prefix="/maintenance", tags=["maintenance"], responses=ERROR_RESPONSES)
Anyone = Annotated[Principal, Depends(require(ALL_ROLES))]
Reader = Annotated[Principal, Depends(require(NETWORK_READERS))]
Editor = Annotated[Principal, Depends(require(NETWORK_EDITORS))]


def _number(who: Principal, number: str | None) -> str | None:
    """A subscriber's number as ``who`` may see it: ``null`` to roles whose work needs no subscriber (as a CPE's
    subscriber is to them)."""
    return number if who.role in PERSONAL_DATA_READERS else None
class WindowOut(BaseModel):
    id: int
    kind: str
    status: Status
    title: str
    reason: str
    impact: str
    description_sl: str
    description_en: str
    emergency: bool
    starts_at: DateTime
    ends_at: DateTime | None
    sequence: int
    segments: list[str]
    created_by: str
    created_at: DateTime
    cancelled_at: DateTime | None


class WindowFilter(Paging):
    segment: str | None = None
    current: bool | None = None
    kind: Literal["planned", "outage"] | None = None


def out(window: MaintenanceWindow) -> dict[str, Any]:
    """A window as the API shows it."""
    fields = {c: getattr(window, c) for c in WindowOut.model_fields if c not in ("segments", "status")}
    return {**fields, "status": status(window, utcnow()), "segments": [s.name for s in window.segments]}


def _saved(s: SessionDep, window: MaintenanceWindow) -> dict[str, Any]:
    s.commit()
    return out(window)


@router.get("/windows", summary="Maintenance windows and outages, newest start first")
def list_windows(s: ReadSessionDep, _: Anyone, query: Annotated[WindowFilter, Query()]) -> dict[str, Any]:
    base = select(MaintenanceWindow)
    if query.segment is not None:
        base = base.join(window_segments).join(Segment).where(Segment.name == query.segment)
    if query.kind is not None:
        base = base.where(MaintenanceWindow.kind == query.kind)
    if query.current:
        now = utcnow()
        base = base.where(MaintenanceWindow.cancelled_at.is_(None), MaintenanceWindow.starts_at <= now,
                          or_(MaintenanceWindow.ends_at.is_(None), MaintenanceWindow.ends_at > now))
    total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = s.scalars(base.order_by(MaintenanceWindow.starts_at.desc()).limit(query.limit).offset(query.offset))
    return {"items": [WindowOut(**out(w)) for w in rows], "total": total, "limit": query.limit,
            "offset": query.offset}


@router.get("/windows/{window_id}", response_model=WindowOut, summary="One maintenance window or outage")
def get_window(window_id: Id, s: ReadSessionDep, _: Anyone) -> dict[str, Any]:
    return out(find_window(s, window_id))


@router.post("/windows", response_model=WindowOut, status_code=201,
             summary="Plan a maintenance window (announced to the affected subscribers)")
def post_window(body: WindowIn, s: SessionDep, rt: RuntimeDep, who: Editor,
                reason: ReasonHeader = "") -> dict[str, Any]:
    return _saved(s, create_window(s, body, who.actor, reason, policy=NoticePolicy.from_settings(rt.settings)))


@router.put("/windows/{window_id}", response_model=WindowOut,
            summary="Change a maintenance window (an update goes to the affected subscribers)")
def put_window(window_id: Id, body: WindowIn, s: SessionDep, rt: RuntimeDep, who: Editor,
               reason: ReasonHeader = "") -> dict[str, Any]:
    policy = NoticePolicy.from_settings(rt.settings)
    return _saved(s, update_window(s, find_window(s, window_id), body, who.actor, reason, policy=policy))


@router.post("/windows/{window_id}/cancel", response_model=WindowOut,
             summary="Cancel a maintenance window (subscribers already told are told again)")
def post_cancel(window_id: Id, s: SessionDep, who: Editor, reason: ReasonHeader = "") -> dict[str, Any]:
    return _saved(s, cancel_window(s, find_window(s, window_id), who.actor, reason))


@router.post("/outages", response_model=WindowOut, status_code=201,
             summary="Declare an outage on segments, starting now (the affected subscribers are told)")
def post_outage(body: OutageIn, s: SessionDep, who: Editor, reason: ReasonHeader = "") -> dict[str, Any]:
    return _saved(s, declare_outage(s, body, who.actor, reason))


@router.post("/outages/{window_id}/resolve", response_model=WindowOut,
             summary="Declare an outage resolved (the subscribers told of it are told)")
def post_resolve(window_id: Id, s: SessionDep, who: Editor, reason: ReasonHeader = "") -> dict[str, Any]:
    return _saved(s, resolve_outage(s, find_window(s, window_id), who.actor, reason))


@router.get("/windows/{window_id}/affected", summary="Subscribers the window affects: counts per segment and a "
            "paged list (subscriber numbers only, null to roles that see no subscribers)")
def get_affected(window_id: Id, s: ReadSessionDep, rt: RuntimeDep, who: Reader,
                 page: Annotated[Paging, Query()]) -> dict[str, Any]:
    window = find_window(s, window_id)
    today = NoticePolicy.from_settings(rt.settings).today()
    summary, names = affected(s, window, today)
    query = subscribers_on(list(names), today, window.category)
    rows = s.execute(query.order_by(Subscriber.number).limit(page.limit).offset(page.offset))
    return {
        "window": window.id, "category": window.category, **summary,
        "items": [{"subscriber": _number(who, r.number), "segment": names[r.segment_id], "language": r.language,
                   "notice": "opted_out" if r.opted_out else "no_email" if not r.email else "email"} for r in rows],
        "limit": page.limit, "offset": page.offset,
    }


@router.get("/windows/{window_id}/notices", summary="The window's notices and how their mails are going")
def get_notices(window_id: Id, s: ReadSessionDep, _: Reader) -> list[dict[str, Any]]:
    find_window(s, window_id)
    return notice_progress(s, window_id)


@router.get("/windows/{window_id}/notices/{notice_id}/failed",
            summary="The subscribers a notice could not be delivered to, and why")
def get_failed(window_id: Id, notice_id: Id, s: ReadSessionDep, who: Reader,
               page: Annotated[Paging, Query()]) -> dict[str, Any]:
    notice = s.get(Notice, notice_id)
    if notice is None or notice.window_id != window_id:
        raise ApiError(404, "not_found", f"window {window_id} has no notice {notice_id}", "notice_id")
    messages, total = messages_of(s, notice.topic, "dead", limit=page.limit, offset=page.offset)
    ids = [m.data["subscriber"] for m in messages]
    numbers = dict(s.execute(select(Subscriber.id, Subscriber.number).where(Subscriber.id.in_(ids))).all())
    return {"items": [{"subscriber": _number(who, numbers.get(m.data["subscriber"])), "error": m.last_error,
                       "attempts": m.attempts, "at": m.next_attempt_at} for m in messages],
            "total": total, "limit": page.limit, "offset": page.offset}


@router.get("/feed.json", summary="Upcoming and ongoing works and outages (public, no personal data)")
def feed_json(s: ReadSessionDep) -> dict[str, Any]:
    return feeds.as_json(feeds.upcoming(s, utcnow()))


@router.get("/feed.ics", summary="Upcoming and ongoing works and outages as a calendar (public)",
            response_class=Response)
def feed_ics(s: ReadSessionDep, rt: RuntimeDep) -> Response:
    body = feeds.as_calendar(feeds.upcoming(s, utcnow()), rt.settings.mail_from)
    return Response(body, media_type="text/calendar; charset=utf-8")
