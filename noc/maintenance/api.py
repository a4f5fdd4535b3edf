"""Maintenance window endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from noc.core.db import utcnow
from noc.core.http import ERROR_RESPONSES, ApiError, Paging, ReasonHeader, SessionDep, require
from noc.core.security import ALL_ROLES, NETWORK_EDITORS, Principal
from noc.inventory.models import Segment
from noc.maintenance.models import MaintenanceWindow, window_segments
from noc.maintenance.service import WindowIn, cancel_window, create_window, update_window

router = APIRouter(prefix="/maintenance/windows", tags=["maintenance"], responses=ERROR_RESPONSES)
Anyone = Annotated[Principal, Depends(require(ALL_ROLES))]
Editor = Annotated[Principal, Depends(require(NETWORK_EDITORS))]


class WindowOut(BaseModel):
    id: int
    title: str
    reason: str
    starts_at: datetime
    ends_at: datetime
    segments: list[str]
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None


class WindowFilter(Paging):
    segment: str | None = None
    current: bool | None = None


def out(window: MaintenanceWindow) -> dict[str, Any]:
    """A window as the API shows it."""
    return {**{c: getattr(window, c) for c in WindowOut.model_fields if c != "segments"},
            "segments": [s.name for s in window.segments]}


def _get(s: SessionDep, window_id: int) -> MaintenanceWindow:
    window = s.get(MaintenanceWindow, window_id)
    if window is None:
        raise ApiError(404, "not_found", f"no maintenance window with id {window_id}", "id")
    return window


@router.get("", summary="Maintenance windows, newest start first")
def list_windows(s: SessionDep, _: Anyone, query: Annotated[WindowFilter, Query()]) -> dict[str, Any]:
    base = select(MaintenanceWindow)
    if query.segment is not None:
        base = base.join(window_segments).join(Segment).where(Segment.name == query.segment)
    if query.current:
        now = utcnow()
        base = base.where(MaintenanceWindow.cancelled_at.is_(None), MaintenanceWindow.starts_at <= now,
                          MaintenanceWindow.ends_at > now)
    total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = s.scalars(base.order_by(MaintenanceWindow.starts_at.desc()).limit(query.limit).offset(query.offset))
    return {"items": [WindowOut(**out(w)) for w in rows], "total": total, "limit": query.limit,
            "offset": query.offset}


@router.get("/{window_id}", response_model=WindowOut, summary="One maintenance window")
def get_window(window_id: int, s: SessionDep, _: Anyone) -> dict[str, Any]:
    return out(_get(s, window_id))


@router.post("", response_model=WindowOut, status_code=201, summary="Plan a maintenance window")
def post_window(body: WindowIn, s: SessionDep, who: Editor, reason: ReasonHeader = "") -> dict[str, Any]:
    window = create_window(s, body, who.actor, reason)
    s.commit()
    return out(window)


@router.put("/{window_id}", response_model=WindowOut, summary="Change a maintenance window")
def put_window(window_id: int, body: WindowIn, s: SessionDep, who: Editor, reason: ReasonHeader = "") -> dict[str, Any]:
    window = update_window(s, _get(s, window_id), body, who.actor, reason)
    s.commit()
    return out(window)


@router.post("/{window_id}/cancel", response_model=WindowOut, summary="Cancel a maintenance window")
def post_cancel(window_id: int, s: SessionDep, who: Editor, reason: ReasonHeader = "") -> dict[str, Any]:
    window = cancel_window(s, _get(s, window_id), who.actor, reason)
    s.commit()
    return out(window)
