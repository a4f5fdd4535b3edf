"""Upgrade tickets: opened by rule breaches (never twice), updated by repeats, moved through their lifecycle."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from noc.audit.service import record
from noc.capacity.models import ACTIVE_STATES, SegmentRollup, TicketEvidence, UpgradeTicket
from noc.capacity.rules import Breach, RuleSet, daily_busy_hour_p95, went_below
from noc.core.db import utcnow
from noc.core.errors import InvalidInput
from noc.core.security import Actor
from noc.inventory.models import Segment

TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "in_progress", "resolved", "rejected"}),
    "acknowledged": frozenset({"in_progress", "resolved", "rejected"}),
    "in_progress": frozenset({"resolved", "rejected"}),
    "resolved": frozenset(),
    "rejected": frozenset(),
}
TicketEvent = Callable[[Session, UpgradeTicket, str], None]
"""Called in the same transaction when a ticket is opened, updated or changes state (e.g. a webhook)."""


class TicketError(InvalidInput):
    """A ticket change that is not allowed (``field`` names the offending input)."""


@dataclass(frozen=True)
class Outcome:
    """What a breach did: ``opened``, ``updated``, ``unchanged`` or ``held`` (hysteresis), and the ticket."""

    status: str
    ticket: UpgradeTicket | None


def active_ticket(session: Session, segment_id: int, direction: str, rule: str) -> UpgradeTicket | None:
    """The open, acknowledged or in-progress ticket of a segment direction and rule, if any."""
    return session.scalar(select(UpgradeTicket).where(
        UpgradeTicket.segment_id == segment_id, UpgradeTicket.direction == direction, UpgradeTicket.rule == rule,
        UpgradeTicket.state.in_(ACTIVE_STATES)))


def last_closed(session: Session, segment_id: int, direction: str, rule: str) -> UpgradeTicket | None:
    """The most recently resolved or rejected ticket of a segment direction and rule."""
    return session.scalar(select(UpgradeTicket).where(
        UpgradeTicket.segment_id == segment_id, UpgradeTicket.direction == direction, UpgradeTicket.rule == rule,
        UpgradeTicket.closed_at.is_not(None)).order_by(UpgradeTicket.closed_at.desc()).limit(1))


def rearmed(session: Session, closed: UpgradeTicket, rules: RuleSet) -> bool:
    """Whether the segment direction went below the clear threshold after ``closed`` was closed.

    For busy-hour and forecast tickets only busy-hour readings count (every segment is quiet at night).
    """
    after = list(session.scalars(select(SegmentRollup).where(
        SegmentRollup.segment_id == closed.segment_id, SegmentRollup.direction == closed.direction,
        SegmentRollup.start >= closed.closed_at).order_by(SegmentRollup.start)))
    if closed.rule == "sustained":
        return went_below(after, rules.clear_threshold)
    daily = daily_busy_hour_p95(after, rules.busy_hour_p95, rules.timezone)
    return any(p95 < rules.clear_threshold for p95 in daily.values())


def _newest(breach: Breach) -> datetime:
    return max(r.start for r in breach.evidence)


def _add_evidence(ticket: UpgradeTicket, evidence: Sequence[Any]) -> None:
    have = {e.start for e in ticket.evidence}
    for r in evidence:
        if r.start not in have:
            ticket.evidence.append(TicketEvidence(start=r.start, seconds=r.seconds, mean=r.mean, max=r.max, p95=r.p95,
                                                  capacity_bps=getattr(r, "capacity_bps", 0.0)))


def apply_breach(session: Session, segment: Segment, breach: Breach, rules: RuleSet, actor: Actor,
                 on_event: TicketEvent | None = None) -> Outcome:
    """Open a ticket for ``breach``, or add it to the active one; safe with several evaluators at once."""
    ticket = active_ticket(session, segment.id, breach.direction, breach.rule)
    if ticket is None:
        closed = last_closed(session, segment.id, breach.direction, breach.rule)
        if closed is not None and not rearmed(session, closed, rules):
            return Outcome("held", closed)
        ticket = UpgradeTicket(segment_id=segment.id, direction=breach.direction, rule=breach.rule, state="open",
                               priority=breach.priority, detail=breach.detail,
                               threshold=getattr(rules, breach.rule).threshold,
                               first_value=breach.value, latest_peak=breach.peak, breach_count=1,
                               last_breach_at=_newest(breach), predicted_date=breach.predicted_date)
        _add_evidence(ticket, breach.evidence)
        try:
            with session.begin_nested():
                session.add(ticket)
                session.flush()
        except IntegrityError:  # another evaluator opened it first: add to theirs
            ticket = active_ticket(session, segment.id, breach.direction, breach.rule)
            if ticket is None:
                raise
        else:
            record(session, actor, "ticket.open", "upgrade_ticket", str(ticket.id),
                   details={"segment": segment.name, "direction": breach.direction, "rule": breach.rule,
                            "value": round(breach.value, 4), "detail": breach.detail})
            if on_event:
                on_event(session, ticket, "ticket.opened")
            return Outcome("opened", ticket)
    if _newest(breach) <= ticket.last_breach_at:
        return Outcome("unchanged", ticket)
    ticket.breach_count += 1
    ticket.latest_peak = max(ticket.latest_peak, breach.peak)
    ticket.last_breach_at = _newest(breach)
    ticket.detail = breach.detail
    if breach.predicted_date is not None:
        ticket.predicted_date = breach.predicted_date
    _add_evidence(ticket, breach.evidence)
    record(session, actor, "ticket.repeat", "upgrade_ticket", str(ticket.id),
           details={"count": ticket.breach_count, "peak": round(ticket.latest_peak, 4)})
    if on_event:
        on_event(session, ticket, "ticket.updated")
    return Outcome("updated", ticket)


def transition(session: Session, ticket: UpgradeTicket, state: str, actor: Actor, *, note: str = "",
               new_capacity_mbps: float | None = None, on_event: TicketEvent | None = None) -> UpgradeTicket:
    """Move a ticket on; resolving needs the new capacity (which later computations use), rejecting a reason."""
    if state not in TRANSITIONS.get(ticket.state, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(ticket.state, ()))) or "none (it is closed)"
        raise TicketError("state", f"a {ticket.state} ticket cannot become {state}; allowed: {allowed}")
    if state == "rejected" and not note.strip():
        raise TicketError("note", "give the reason for rejecting the ticket")
    if state == "resolved":
        if new_capacity_mbps is None or new_capacity_mbps <= 0:
            raise TicketError("new_capacity_mbps", "give the segment direction's new capacity in Mbit/s")
        segment = session.get(Segment, ticket.segment_id)
        assert segment is not None
        column = f"capacity_{ticket.direction}_mbps"
        old = getattr(segment, column)
        setattr(segment, column, new_capacity_mbps)
        record(session, actor, "segment.capacity", "segment", str(segment.id), reason=f"ticket {ticket.id}",
               details={"direction": ticket.direction, "old_mbps": old, "new_mbps": new_capacity_mbps})
        ticket.new_capacity_mbps = new_capacity_mbps
    previous, ticket.state = ticket.state, state
    ticket.note = note or ticket.note
    if state in ("resolved", "rejected"):
        ticket.closed_at = utcnow()
    record(session, actor, f"ticket.{state}", "upgrade_ticket", str(ticket.id), reason=note,
           details={"from": previous, "to": state, "new_capacity_mbps": new_capacity_mbps})
    if on_event:
        on_event(session, ticket, f"ticket.{state}")
    return ticket
