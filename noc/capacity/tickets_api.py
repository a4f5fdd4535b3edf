"""Upgrade ticket endpoints: list, get, transitions, evidence chart."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from noc.auth.roles import ALL_ROLES, NETWORK_EDITORS
from noc.auth.service import Principal
from noc.capacity.chart import utilization_svg
from noc.capacity.models import RULE_KINDS, TICKET_STATES, UpgradeTicket
from noc.capacity.rollups import history
from noc.capacity.tickets import transition
from noc.http import ERROR_RESPONSES, ApiError, Paging, ReasonHeader, SessionDep, require
from noc.inventory.models import Segment

router = APIRouter(prefix="/tickets", tags=["tickets"], responses=ERROR_RESPONSES)
Anyone = Annotated[Principal, Depends(require(ALL_ROLES))]
Editor = Annotated[Principal, Depends(require(NETWORK_EDITORS))]


class EvidenceOut(BaseModel):
    start: datetime
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
    last_breach_at: datetime
    predicted_date: date | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
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
        raise ApiError(404, "not_found", f"no ticket with id {ticket_id}", "id")
    segment = s.get(Segment, ticket.segment_id)
    assert segment is not None
    return ticket, segment


@router.get("", summary="Upgrade tickets, newest first")
def list_tickets(s: SessionDep, _: Anyone, query: Annotated[TicketFilter, Query()]) -> dict[str, Any]:
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


@router.get("/{ticket_id}", response_model=TicketOut, summary="One upgrade ticket with its evidence")
def get_ticket(ticket_id: int, s: SessionDep, _: Anyone) -> dict[str, Any]:
    ticket, segment = _get(s, ticket_id)
    return out(ticket, segment.name)


@router.post("/{ticket_id}/transitions", response_model=TicketOut, summary="Move a ticket through its lifecycle")
def post_transition(request: Request, ticket_id: int, body: TransitionIn, s: SessionDep, who: Editor,
                    reason: ReasonHeader = "") -> dict[str, Any]:
    ticket, segment = _get(s, ticket_id)
    transition(s, ticket, body.state, who.actor, note=body.note or reason, new_capacity_mbps=body.new_capacity_mbps,
               on_event=request.app.state.ticket_events)
    s.commit()
    return out(ticket, segment.name)


@router.get("/{ticket_id}/chart.svg", summary="The segment's utilization around the ticket, with the 70 % line",
            response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def chart(ticket_id: int, s: SessionDep, _: Anyone,
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
