"""Capacity endpoints: segments' utilization now and over time, the capacity report, upgrade tickets."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from noc.capacity.chart import utilization_svg
from noc.capacity.models import RULE_KINDS, TICKET_STATES, SegmentLatest, UpgradeTicket
from noc.capacity.rollups import history
from noc.capacity.rules import RulesError, busy_hour_summary, evaluate_forecast
from noc.capacity.service import rules_in_force, segment_rules, webhook_events
from noc.capacity.tickets import transition
from noc.core.db import utcnow
from noc.core.errors import NotFound
from noc.core.http import ERROR_RESPONSES, Id, Paging, ReadSessionDep, ReasonHeader, RuntimeDep, SessionDep, require
from noc.core.inputs import Date, DateTime
from noc.core.security import ALL_ROLES, NETWORK_EDITORS, Principal
from noc.inventory.kinds import SEGMENT
from noc.inventory.models import Segment
from noc.inventory.service import get_by_id

router = APIRouter(responses=ERROR_RESPONSES)
Anyone = Annotated[Principal, Depends(require(ALL_ROLES))]
Editor = Annotated[Principal, Depends(require(NETWORK_EDITORS))]


def rules_problem(segment: Segment, rt: RuntimeDep) -> str | None:
    """Why ``segment``'s rules cannot be used with the rules in force (None when they can)."""
    try:
        segment_rules(segment, rules_in_force(rt.settings))
    except RulesError as exc:
        return str(exc)
    return None


class DirectionNow(BaseModel):
    at: DateTime
    utilization: float
    bps: float
    capacity_bps: float


class SegmentNow(BaseModel):
    id: int
    name: str
    kind: str
    down: DirectionNow | None
    up: DirectionNow | None
    rules_error: str | None = Field(None, description="Why the segment's rules cannot be evaluated (it is skipped).")


@router.get("/capacity/now", tags=["capacity"], response_model=list[SegmentNow],
            summary="Every segment's newest utilization (0..1)")
def now(rt: RuntimeDep, s: ReadSessionDep, _: Anyone) -> list[dict[str, Any]]:
    latest: dict[int, dict[str, Any]] = {}
    for row in s.scalars(select(SegmentLatest)):
        latest.setdefault(row.segment_id, {})[row.direction] = {
            "at": row.at, "utilization": row.utilization, "bps": row.bps, "capacity_bps": row.capacity_bps}
    return [{"id": seg.id, "name": seg.name, "kind": seg.kind, "rules_error": rules_problem(seg, rt),
             **{d: latest.get(seg.id, {}).get(d) for d in ("down", "up")}}
            for seg in s.scalars(select(Segment).order_by(Segment.id))]


class ReportRow(BaseModel):
    segment: str
    kind: str
    direction: str
    busy_hour_p95: float | None
    busy_hour_days: int
    threshold: float
    forecast_date: Date | None
    open_tickets: int
    rules_error: str | None = None


REPORT_COLUMNS = list(ReportRow.model_fields)


@router.get("/capacity/report", tags=["capacity"],
            summary="Every segment direction ranked by busy-hour p95, with its forecast date",
            response_model=list[ReportRow], responses={200: {"content": {"text/csv": {}}}})
def report(rt: RuntimeDep, s: ReadSessionDep, _: Anyone,
           format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json") -> Any:
    now = utcnow()
    defaults = rules_in_force(rt.settings)
    open_counts = {(seg, d): int(n) for seg, d, n in s.execute(
        select(UpgradeTicket.segment_id, UpgradeTicket.direction, func.count())
        .where(UpgradeTicket.closed_at.is_(None)).group_by(UpgradeTicket.segment_id, UpgradeTicket.direction))}
    rows: list[dict[str, Any]] = []
    for segment in s.scalars(select(Segment).order_by(Segment.id)):
        try:
            rules = segment_rules(segment, defaults)
        except RulesError as exc:
            rows.extend({"segment": segment.name, "kind": segment.kind, "direction": direction, "busy_hour_p95": None,
                         "busy_hour_days": 0, "threshold": defaults[segment.kind].busy_hour_p95.threshold,
                         "forecast_date": None, "open_tickets": open_counts.get((segment.id, direction), 0),
                         "rules_error": str(exc)} for direction in ("down", "up"))
            continue
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


class RollupOut(BaseModel):
    start: DateTime
    direction: str
    seconds: int
    mean: float
    max: float
    p95: float
    mean_bps: float
    capacity_bps: float
    points: int


class UtilizationOut(BaseModel):
    segment: str
    kind: str
    rollups: list[RollupOut]


@router.get("/segments/{segment_id}/utilization", response_model=UtilizationOut, tags=["capacity"],
            summary="A segment's utilization rollups (share of capacity, 0..1)")
def utilization(
    segment_id: Id, s: ReadSessionDep, _: Anyone,
    hours: Annotated[float, Query(gt=0, le=24 * 90, description="How far back.")] = 24,
    direction: Annotated[Literal["down", "up"] | None, Query()] = None,
) -> dict[str, Any]:
    segment = get_by_id(s, SEGMENT, segment_id)
    since = datetime.now(UTC) - timedelta(hours=hours)
    rows = history(s, segment_id, since, direction)
    return {"segment": segment.name, "kind": segment.kind,  # type: ignore[attr-defined]
            "rollups": [{c: getattr(r, c) for c in RollupOut.model_fields} for r in rows]}


class EvidenceOut(BaseModel):
    start: DateTime
    seconds: int
    mean: float
    max: float
    p95: float
    capacity_bps: float


class TicketOut(BaseModel):
    id: int
    segment: str
    segment_id: int
    direction: str
    rule: str
    state: str
    priority: str
    detail: str
    threshold: float
    first_value: float
    latest_peak: float
    breach_count: int
    last_breach_at: DateTime
    predicted_date: Date | None
    opened_at: DateTime
    updated_at: DateTime
    closed_at: DateTime | None
    new_capacity_mbps: float | None
    note: str
    evidence: list[EvidenceOut]
    chart: str


class TicketFilter(Paging):
    state: Literal[TICKET_STATES] | None = None  # type: ignore[valid-type]
    active: bool | None = None
    segment: str | None = None
    rule: Literal[RULE_KINDS] | None = None  # type: ignore[valid-type]
    direction: Literal["down", "up"] | None = None


class TransitionIn(BaseModel):
    """A lifecycle step: acknowledged, in_progress, resolved (with new_capacity_mbps) or rejected (with note)."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["acknowledged", "in_progress", "resolved", "rejected"]
    note: str = Field("", max_length=2000)
    new_capacity_mbps: float | None = Field(None, gt=0)


def out(ticket: UpgradeTicket, segment_name: str) -> dict[str, Any]:
    """A ticket as the API shows it, with its evidence and the chart's URL."""
    fields = {c: getattr(ticket, c) for c in TicketOut.model_fields if c not in ("segment", "evidence", "chart")}
    return {**fields, "segment": segment_name,
            "evidence": [{c: getattr(e, c) for c in EvidenceOut.model_fields} for e in ticket.evidence],
            "chart": f"/api/v1/tickets/{ticket.id}/chart.svg"}


def _get(s: SessionDep, ticket_id: int) -> tuple[UpgradeTicket, Segment]:
    ticket = s.get(UpgradeTicket, ticket_id)
    if ticket is None:
        raise NotFound("id", f"no ticket with id {ticket_id}")
    segment = s.get(Segment, ticket.segment_id)
    assert segment is not None
    return ticket, segment


@router.get("/tickets", tags=["tickets"], summary="Upgrade tickets, newest first")
def list_tickets(s: ReadSessionDep, _: Anyone, query: Annotated[TicketFilter, Query()]) -> dict[str, Any]:
    base = select(UpgradeTicket, Segment.name).join(Segment, Segment.id == UpgradeTicket.segment_id)
    for column in ("state", "rule", "direction"):
        if getattr(query, column) is not None:
            base = base.where(getattr(UpgradeTicket, column) == getattr(query, column))
    if query.segment is not None:
        base = base.where(Segment.name == query.segment)
    if query.active is not None:
        base = base.where(UpgradeTicket.closed_at.is_(None) if query.active else UpgradeTicket.closed_at.is_not(None))
    total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = s.execute(base.order_by(UpgradeTicket.id.desc()).limit(query.limit).offset(query.offset)).all()
    return {"items": [TicketOut(**out(t, name)) for t, name in rows], "total": total, "limit": query.limit,
            "offset": query.offset}


@router.get("/tickets/{ticket_id}", response_model=TicketOut, tags=["tickets"],
            summary="One upgrade ticket with its evidence")
def get_ticket(ticket_id: Id, s: ReadSessionDep, _: Anyone) -> dict[str, Any]:
    ticket, segment = _get(s, ticket_id)
    return out(ticket, segment.name)


@router.post("/tickets/{ticket_id}/transitions", response_model=TicketOut, tags=["tickets"],
             summary="Move a ticket through its lifecycle")
def post_transition(rt: RuntimeDep, ticket_id: Id, body: TransitionIn, s: SessionDep, who: Editor,
                    reason: ReasonHeader = "") -> dict[str, Any]:
    ticket, segment = _get(s, ticket_id)
    transition(s, ticket, body.state, who.actor, note=body.note or reason, new_capacity_mbps=body.new_capacity_mbps,
               on_event=webhook_events(rt.settings.ticket_webhook_url))
    s.commit()
    return out(ticket, segment.name)


@router.get("/tickets/{ticket_id}/chart.svg", tags=["tickets"],
            summary="The segment's utilization around the ticket, with the 70 % line",
            response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def chart(ticket_id: Id, s: ReadSessionDep, _: Anyone,
          hours: Annotated[float, Query(gt=0, le=24 * 90)] = 6) -> Response:
    ticket, segment = _get(s, ticket_id)
    end = max(ticket.last_breach_at + timedelta(hours=1), ticket.closed_at or ticket.last_breach_at)
    rollups = [r for r in history(s, segment.id, end - timedelta(hours=hours), ticket.direction) if r.start <= end]
    series = {f"{ticket.direction} mean": [(r.start, r.mean) for r in rollups],
              f"{ticket.direction} max": [(r.start, r.max) for r in rollups]}
    spans = [(e.start, e.start + timedelta(seconds=e.seconds)) for e in ticket.evidence]
    svg = utilization_svg(f"{segment.name} {ticket.direction}: ticket {ticket.id} ({ticket.rule})", series,
                          threshold=ticket.threshold, highlight=spans)
    return Response(svg, media_type="image/svg+xml")
