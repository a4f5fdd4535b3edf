"""Capacity endpoints: every segment's current utilization."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import select

from noc.auth.roles import ALL_ROLES
from noc.auth.service import Principal
from noc.capacity.models import SegmentLatest
from noc.http import ERROR_RESPONSES, SessionDep, require
from noc.inventory.models import Segment

router = APIRouter(prefix="/capacity", tags=["capacity"], responses=ERROR_RESPONSES)
Anyone = Annotated[Principal, Depends(require(ALL_ROLES))]


class DirectionNow(BaseModel):
    at: datetime
    utilization: float
    bps: float
    capacity_bps: float


class SegmentNow(BaseModel):
    id: int
    name: str
    kind: str
    down: DirectionNow | None
    up: DirectionNow | None


@router.get("/now", response_model=list[SegmentNow], summary="Every segment's newest utilization (0..1)")
def now(s: SessionDep, _: Anyone) -> list[dict[str, Any]]:
    latest: dict[int, dict[str, Any]] = {}
    for row in s.scalars(select(SegmentLatest)):
        latest.setdefault(row.segment_id, {})[row.direction] = {
            "at": row.at, "utilization": row.utilization, "bps": row.bps, "capacity_bps": row.capacity_bps}
    return [{"id": seg.id, "name": seg.name, "kind": seg.kind, **{d: latest.get(seg.id, {}).get(d)
                                                                   for d in ("down", "up")}}
            for seg in s.scalars(select(Segment).order_by(Segment.id))]
