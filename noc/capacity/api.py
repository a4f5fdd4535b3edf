"""Capacity endpoints: every segment's current utilization, and the capacity report."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import func, select

from noc.auth.roles import ALL_ROLES
from noc.auth.service import Principal
from noc.capacity.models import SegmentLatest, UpgradeTicket
from noc.capacity.rollups import history
from noc.capacity.rules import busy_hour_summary, evaluate_forecast, rules_for
from noc.db import utcnow
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


class ReportRow(BaseModel):
    segment: str
    kind: str
    direction: str
    busy_hour_p95: float | None
    busy_hour_days: int
    threshold: float
    forecast_date: date | None
    open_tickets: int


REPORT_COLUMNS = list(ReportRow.model_fields)


@router.get("/report", summary="Every segment direction ranked by busy-hour p95, with its forecast date",
            response_model=list[ReportRow], responses={200: {"content": {"text/csv": {}}}})
def report(request: Request, s: SessionDep, _: Anyone,
           format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json") -> Any:
    now = utcnow()
    defaults = getattr(request.app.state, "capacity_rules", None)
    open_counts = {(seg, d): int(n) for seg, d, n in s.execute(
        select(UpgradeTicket.segment_id, UpgradeTicket.direction, func.count())
        .where(UpgradeTicket.closed_at.is_(None)).group_by(UpgradeTicket.segment_id, UpgradeTicket.direction))}
    rows = []
    for segment in s.scalars(select(Segment).order_by(Segment.id)):
        rules = rules_for(segment.kind, segment.rules, defaults)
        since = now - timedelta(days=max(rules.busy_hour_p95.days, rules.forecast.history_days) + 1)
        for direction in ("down", "up"):
            rollups = history(s, segment.id, since, direction)
            summary = busy_hour_summary(rollups, rules.busy_hour_p95, direction, now, rules.timezone)
            forecast = evaluate_forecast(rollups, rules.forecast, direction, now, rules.timezone,
                                         busy=rules.busy_hour_p95) if rollups else None
            rows.append({"segment": segment.name, "kind": segment.kind, "direction": direction,
                         "busy_hour_p95": summary.p95, "busy_hour_days": summary.covered_days,
                         "threshold": rules.busy_hour_p95.threshold,
                         "forecast_date": forecast.predicted_date if forecast else None,
                         "open_tickets": open_counts.get((segment.id, direction), 0)})
    rows.sort(key=lambda r: (r["busy_hour_p95"] is None, -(r["busy_hour_p95"] or 0.0), r["segment"]))
    if format == "json":
        return rows
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="capacity-report.csv"'})
