"""The poller: runs poll cycles on one long-lived event loop and hands results to the sink and the database."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.samples import Sample
from collectors.sinks import Sink
from collectors.snmp.client import SnmpClient
from collectors.snmp.counters import RateTracker
from collectors.snmp.health import Grade, HealthPolicy, load_health, worst
from noc import metrics
from noc.capacity.rollups import RollupBuffer, keep_latest, store
from noc.crypto import SecretBox
from noc.db import Database
from noc.inventory.models import Device
from noc.polling.device_poll import PollOutcome, poll
from noc.polling.models import CpeHealth, PollStatus
from noc.polling.segments import segment_readings
from noc.polling.targets import PollTarget, capacity_overrides, cpes, segment_definitions, segment_devices
from noc.settings import Settings

log = logging.getLogger("noc.polling")
T = TypeVar("T")
UNREACHABLE = "unreachable"


@dataclass
class CycleReport:
    """What one cycle did."""

    job: str
    targets: int = 0
    ok: int = 0
    failed: int = 0
    samples: int = 0
    segment_points: int = 0
    rollups_stored: int = 0
    withheld: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0


class Poller:
    """Owns the SNMP client, the rate tracker and the rollup buffer; cycles are called from scheduler threads."""

    def __init__(self, db: Database, settings: Settings, sink: Sink, box: SecretBox,
                 health: HealthPolicy | None = None) -> None:
        self.db, self.settings, self.sink, self.box = db, settings, sink, box
        self.health = health or load_health()
        self.tracker = RateTracker()
        self.rollups = RollupBuffer(settings.rollup_period_s)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="noc-poller", daemon=True)
        self._thread.start()
        self.client = self._run(self._make_client())
        metrics.STATS.register("snmp", lambda: {k: float(v) for k, v in self.client.stats.items()})

    async def _make_client(self) -> SnmpClient:
        return SnmpClient(max_concurrency=self.settings.poll_concurrency)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        """Stop the loop and flush what the sink holds."""
        metrics.STATS.unregister("snmp")
        self._run(self.client.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self.sink.flush(timeout=5)

    def _timing(self) -> dict[str, Any]:
        return {"timeout": self.settings.snmp_timeout_s, "retries": self.settings.snmp_retries}

    def segment_cycle(self) -> CycleReport:
        """Poll every segment member device, compute segment utilization, store closed rollups."""
        started = time.perf_counter()
        report = CycleReport("segments")
        if self.settings.shard()[0] != 0:
            return report
        with self.db.session() as s:
            targets = segment_devices(s, self.box, **self._timing())
            segments = segment_definitions(s)
            names = {row.id: row.name for row in s.execute(select(Device.id, Device.name))}
        outcomes = self._run(self._poll_all(targets, self.tracker, capacity_overrides(segments)))
        samples = [x for o in outcomes for x in o.samples]
        readings = segment_readings(segments, names, samples, int(time.time()))
        for point in readings.points:
            self.rollups.add(point)
        self.sink.write(samples + readings.samples)
        with self.db.session() as s:
            self._store_status(s, outcomes)
            keep_latest(s, readings.points)
            report.rollups_stored = store(s, self.rollups.close(int(time.time())))
        metrics.ROLLUPS_STORED.inc(report.rollups_stored)
        for reason, n in readings.withheld.items():
            metrics.INVALID_RATES.labels(reason).inc(n)
        report.segment_points, report.withheld = len(readings.points), readings.withheld
        return self._finish(report, outcomes, samples, started)

    def cpe_cycle(self) -> CycleReport:
        """Poll this shard's CPEs for fleet health and keep each CPE's newest verdict."""
        started = time.perf_counter()
        report = CycleReport("cpes")
        with self.db.session() as s:
            targets = cpes(s, self.box, shard=self.settings.shard(), **self._timing())
        outcomes = self._run(self._poll_all(targets, None))
        samples = [x for o in outcomes for x in o.samples]
        self.sink.write(samples)
        with self.db.session() as s:
            self._store_status(s, outcomes)
            self._store_health(s, outcomes)
        return self._finish(report, outcomes, samples, started)

    def _finish(self, report: CycleReport, outcomes: list[PollOutcome], samples: list[Sample],
                started: float) -> CycleReport:
        report.targets, report.samples = len(outcomes), len(samples)
        report.ok = sum(o.ok for o in outcomes)
        report.failed = report.targets - report.ok
        report.duration_s = time.perf_counter() - started
        metrics.CYCLE_DURATION.labels(report.job).set(report.duration_s)
        metrics.CYCLE_TARGETS.labels(report.job).set(report.targets)
        for outcome in outcomes:
            metrics.POLL_DURATION.labels(report.job).observe(outcome.duration_s)
            if not outcome.ok:
                metrics.POLL_ERRORS.labels(report.job, outcome.error_kind).inc()
        log.info("%s cycle: %d targets, %d failed, %d samples in %.2f s", report.job, report.targets,
                 report.failed, report.samples, report.duration_s)
        return report

    async def _poll_all(self, targets: list[PollTarget], tracker: RateTracker | None,
                        capacities: dict[int, dict[str, float]] | None = None) -> list[PollOutcome]:
        caps = capacities or {}
        return list(await asyncio.gather(*(poll(self.client, t, tracker, caps.get(t.id)) for t in targets)))

    def _store_status(self, session: Session, outcomes: list[PollOutcome]) -> None:
        if not outcomes:
            return
        kind = outcomes[0].target.kind
        ids = [o.target.id for o in outcomes]
        existing = {p.target_id: p for p in session.scalars(
            select(PollStatus).where(PollStatus.target_kind == kind, PollStatus.target_id.in_(ids)))}
        for outcome in outcomes:
            at = datetime.fromtimestamp(outcome.at, UTC)
            status = existing.get(outcome.target.id) or PollStatus(target_kind=kind, target_id=outcome.target.id,
                                                                  consecutive_failures=0)
            status.at, status.ok, status.error = at, outcome.ok, outcome.error
            status.duration_s = round(outcome.duration_s, 4)
            status.consecutive_failures = 0 if outcome.ok else (status.consecutive_failures or 0) + 1
            if outcome.ok:
                status.last_ok_at = at
            session.add(status)

    def _store_health(self, session: Session, outcomes: list[PollOutcome]) -> None:
        ids = [o.target.id for o in outcomes]
        existing = {h.cpe_id: h for h in session.scalars(select(CpeHealth).where(CpeHealth.cpe_id.in_(ids)))}
        for outcome in outcomes:
            health = existing.get(outcome.target.id) or CpeHealth(cpe_id=outcome.target.id)
            health.at = datetime.fromtimestamp(outcome.at, UTC)
            if not outcome.ok:
                health.grade, health.findings = UNREACHABLE, json.dumps([{"error": outcome.error_kind}])
            else:
                verdicts = self.health.verdicts(outcome.samples)
                grade = worst(verdicts) or Grade.GOOD
                findings = [{"rule": v.rule, "measurement": v.measurement, "tags": dict(v.tags), "field": v.field,
                             "value": v.value, "grade": v.grade.value}
                            for v in verdicts if v.grade is not Grade.GOOD]
                health.grade, health.findings = grade.value, json.dumps(findings, default=str)
            session.add(health)
