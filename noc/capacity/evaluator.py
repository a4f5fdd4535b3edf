"""Evaluating the capacity rules over stored rollups and turning breaches into tickets."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.audit.service import SYSTEM
from noc.capacity.rollups import history
from noc.capacity.rules import Breach, RuleSet, evaluate_busy_hour, evaluate_forecast, evaluate_sustained, rules_for
from noc.capacity.tickets import TicketEvent, apply_breach
from noc.db import Database, utcnow
from noc.inventory.models import Segment
from noc.maintenance.service import covering

log = logging.getLogger("noc.capacity")

SUSTAINED = ("sustained",)
TRENDS = ("busy_hour_p95", "forecast")
LOOKBACK = {"sustained": timedelta(hours=6), "busy_hour_p95": timedelta(days=8), "forecast": timedelta(days=29)}


@dataclass
class EvaluationReport:
    """Counts of what one evaluation did, by outcome (opened, updated, unchanged, held, suppressed)."""

    segments: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


def breaches_of(session: Session, segment: Segment, rules: RuleSet, kinds: Iterable[str],
                now: datetime) -> list[Breach]:
    """Every breach of ``kinds`` on both directions of ``segment`` at ``now``."""
    found = []
    kinds = tuple(kinds)
    since = now - max(LOOKBACK[k] for k in kinds)
    for direction in ("down", "up"):
        rollups = history(session, segment.id, since, direction)
        if not rollups:
            continue
        if "sustained" in kinds:
            found.append(evaluate_sustained(rollups, rules.sustained, direction))
        if "busy_hour_p95" in kinds:
            found.append(evaluate_busy_hour(rollups, rules.busy_hour_p95, direction, now, rules.timezone))
        if "forecast" in kinds:
            found.append(evaluate_forecast(rollups, rules.forecast, direction, now, rules.timezone,
                                             busy=rules.busy_hour_p95))
    return [b for b in found if b is not None]


def evaluate(db: Database, kinds: Iterable[str], *, now: datetime | None = None,
             defaults: dict[str, RuleSet] | None = None, on_event: TicketEvent | None = None) -> EvaluationReport:
    """Evaluate ``kinds`` of rules on every segment, each segment in its own transaction."""
    now = now or utcnow()
    kinds = tuple(kinds)
    report = EvaluationReport()
    with db.session() as s:
        segment_ids = list(s.scalars(select(Segment.id).order_by(Segment.id)))
    for segment_id in segment_ids:
        with db.session() as s:
            segment = s.get(Segment, segment_id)
            if segment is None:
                continue
            report.segments += 1
            rules = rules_for(segment.kind, segment.rules, defaults)
            for breach in breaches_of(s, segment, rules, kinds, now):
                start = min(r.start for r in breach.evidence)
                end = max(r.start + timedelta(seconds=r.seconds) for r in breach.evidence)
                if breach.rule != "forecast" and covering(s, segment.id, start, end):
                    report.outcomes["suppressed"] += 1
                    continue
                outcome = apply_breach(s, segment, breach, rules, SYSTEM, on_event)
                report.outcomes[outcome.status] += 1
    if report.outcomes.get("opened"):
        log.warning("capacity: %d upgrade ticket(s) opened", report.outcomes["opened"])
    return report

