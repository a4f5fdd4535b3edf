"""Capacity's logic: rollups of polling's measurements, the rules in force, evaluation into tickets.

Wiring (:func:`wire`): capacity subscribes to polling's :class:`SegmentsMeasured` (it keeps its own rollups
and newest points) and checks inventory's :class:`BeforeWrite` of a segment (its ``rules`` overrides must
hold against the rules in force, ``NOC_CAPACITY_RULES_FILE`` or the built-in file).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from noc.capacity import metrics
from noc.capacity.models import UpgradeTicket
from noc.capacity.rollups import RollupBuffer, history, keep_latest, store
from noc.capacity.rules import (
    Breach,
    RulesError,
    RuleSet,
    evaluate_busy_hour,
    evaluate_forecast,
    evaluate_sustained,
    load_rules,
    rules_for,
)
from noc.capacity.tickets import TicketEvent, apply_breach
from noc.core.capability import Runtime
from noc.core.db import Database, utcnow
from noc.core.errors import InvalidInput
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.models import Segment
from noc.inventory.service import BeforeWrite
from noc.maintenance.service import covering
from noc.outbox.service import enqueue
from noc.polling.events import SegmentsMeasured

log = logging.getLogger("noc.capacity")

SUSTAINED = ("sustained",)
TRENDS = ("busy_hour_p95", "forecast")
LOOKBACK = {"sustained": timedelta(hours=6), "busy_hour_p95": timedelta(days=8), "forecast": timedelta(days=29)}


@cache
def _rules_file(path: Path | None, mtime: float) -> dict[str, RuleSet]:
    return load_rules(path)


def rules_in_force(settings: Settings) -> dict[str, RuleSet]:
    """The rules per segment kind from ``NOC_CAPACITY_RULES_FILE`` (or the built-in file), re-read when the
    file changes. Raises :class:`RulesError` naming the file and field of a problem."""
    path = settings.capacity_rules_file
    try:
        mtime = path.stat().st_mtime if path is not None else 0.0
    except OSError as exc:
        raise RulesError(f"{path}: cannot read: {exc.strerror}") from None
    return _rules_file(path, mtime)


def segment_rules(segment: Segment, defaults: dict[str, RuleSet]) -> RuleSet:
    """The rules of ``segment``: its kind's rules in force with its overrides merged over them."""
    return rules_for(segment.kind, segment.rules, defaults)


@dataclass
class EvaluationReport:
    """What one evaluation did: outcomes (opened, updated, unchanged, held, suppressed) and skipped segments."""

    segments: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    skipped: dict[str, str] = field(default_factory=dict)
    """Segment name → why it could not be evaluated (e.g. overrides the rules in force refuse)."""


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
    """Evaluate ``kinds`` of rules on every segment, each segment in its own transaction.

    ``defaults`` are the rules in force per segment kind (:func:`rules_in_force`; None: the built-in file).

    A segment whose rules cannot be used is logged, counted (``noc_capacity_segments_skipped_total``) and
    skipped; every other segment is still evaluated.
    """
    now = now or utcnow()
    kinds = tuple(kinds)
    defaults = defaults if defaults is not None else load_rules()
    report = EvaluationReport()
    with db.read_session() as s:
        segment_ids = list(s.scalars(select(Segment.id).order_by(Segment.id)))
    for segment_id in segment_ids:
        with db.session() as s:
            segment = s.get(Segment, segment_id)
            if segment is None:
                continue
            try:
                rules = segment_rules(segment, defaults)
            except RulesError as exc:
                report.skipped[segment.name] = str(exc)
                continue
            report.segments += 1
            for breach in breaches_of(s, segment, rules, kinds, now):
                start = min(r.start for r in breach.evidence)
                end = max(r.start + timedelta(seconds=r.seconds) for r in breach.evidence)
                if breach.rule != "forecast" and covering(s, segment.id, start, end):
                    report.outcomes["suppressed"] += 1
                    continue
                outcome = apply_breach(s, segment, breach, rules, SYSTEM, on_event)
                report.outcomes[outcome.status] += 1
    for name, problem in report.skipped.items():
        metrics.SEGMENTS_SKIPPED.inc()
        log.error("capacity: segment %s not evaluated: %s", name, problem)
    if report.outcomes.get("opened"):
        log.warning("capacity: %d upgrade ticket(s) opened", report.outcomes["opened"])
    return report


class RollupKeeper:
    """Subscriber to :class:`SegmentsMeasured`: keeps each segment direction's newest point and stores every
    rollup period that has ended (a restarted worker never stores a period twice)."""

    def __init__(self, db: Database, period_s: int) -> None:
        self.db = db
        self.buffer = RollupBuffer(period_s)

    def __call__(self, event: SegmentsMeasured) -> None:
        for point in event.points:
            self.buffer.add(point)
        with self.db.session() as s:
            keep_latest(s, list(event.points))
            stored = store(s, self.buffer.close(event.at))
        metrics.ROLLUPS_STORED.inc(stored)


class SegmentRulesCheck:
    """Subscriber to inventory's :class:`BeforeWrite`: a segment's ``rules`` must hold against the rules in force."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, event: BeforeWrite) -> None:
        if event.kind != "segment":
            return
        data = event.data
        try:
            rules_for(data.kind, data.rules, rules_in_force(self.settings))  # type: ignore[attr-defined]
        except RulesError as exc:
            raise InvalidInput("rules", str(exc)) from None


def ticket_payload(session: Session, ticket: UpgradeTicket, event: str) -> dict[str, object]:
    """The JSON body describing ``ticket`` after ``event``."""
    segment = session.get(Segment, ticket.segment_id)
    return {
        "event": event,
        "ticket": {
            "id": ticket.id,
            "segment": segment.name if segment else None,
            "segment_kind": segment.kind if segment else None,
            "direction": ticket.direction, "rule": ticket.rule, "state": ticket.state, "priority": ticket.priority,
            "detail": ticket.detail, "threshold": ticket.threshold, "latest_peak": ticket.latest_peak,
            "breach_count": ticket.breach_count, "last_breach_at": ticket.last_breach_at.isoformat(),
            "predicted_date": ticket.predicted_date.isoformat() if ticket.predicted_date else None,
            "new_capacity_mbps": ticket.new_capacity_mbps,
        },
    }


def webhook_events(url: str | None) -> TicketEvent | None:
    """An event hook that queues a webhook per ticket event, or None when no webhook is configured.

    The idempotency key names the ticket, the event and the ticket's breach count, so a retried delivery or a
    re-run evaluator never makes a receiver see one event twice.
    """
    if not url:
        return None

    def emit(session: Session, ticket: UpgradeTicket, event: str) -> None:
        key = f"noc-ticket-{ticket.id}-{event}-{ticket.breach_count}"
        enqueue(session, "webhook", url, ticket_payload(session, ticket, event), key)

    return emit


def wire(runtime: Runtime) -> None:
    """Subscribe capacity to polling's measurements and to inventory's segment writes."""
    runtime.events.subscribe(SegmentsMeasured, RollupKeeper(runtime.db, runtime.settings.rollup_period_s))
    runtime.events.subscribe(BeforeWrite, SegmentRulesCheck(runtime.settings))
