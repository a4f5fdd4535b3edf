"""The poller: runs poll cycles on one long-lived event loop and hands results to the sink and the database."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import queue
import threading
import time
from collections.abc import Coroutine, Generator, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from collectors.samples import Sample
from collectors.sinks import Sink
from collectors.snmp.client import SnmpClient
from collectors.snmp.counters import RateTracker
from collectors.snmp.device_poll import PollOutcome, PollTarget, poll
from noc.core.crypto import SecretBox
from noc.core.db import Database
from noc.core.events import EventBus
from noc.core.metrics import STATS
from noc.core.settings import Settings
from noc.inventory.models import Device
from noc.polling import metrics
from noc.polling.events import SegmentsMeasured
from noc.polling.health import Grade, HealthPolicy, load_health, worst
from noc.polling.models import CpeHealth, PollStatus
from noc.polling.segments import segment_readings
from noc.polling.targets import SegmentDef, capacity_overrides, cpes, segment_definitions, segment_devices

log = logging.getLogger("noc.polling")
T = TypeVar("T")
UNREACHABLE = "unreachable"
CPE_BATCH = 1_000
"""CPE results stored together (database rows, sink samples)."""
UNSTORED_LIMIT = 3 * CPE_BATCH
"""CPEs polled or being polled but not stored yet: polling waits below this (memory and backpressure bound)."""
ROWS_PER_STATEMENT = 1_000
GC_GEN0 = 50_000
"""Allocations between collections of the youngest generation during a CPE cycle (Python's default: 700)."""
"""Rows per executemany of an upsert."""


@dataclass
class CycleReport:
    """What one cycle did."""

    job: str
    targets: int = 0
    ok: int = 0
    failed: int = 0
    samples: int = 0
    segment_points: int = 0
    withheld: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class _Polled:
    """What is kept of one CPE's poll once its samples went to the sink: its database rows and figures."""

    status: dict[str, Any]
    health: dict[str, Any]
    ok: bool
    error_kind: str
    duration_s: float
    samples: int


class Poller:
    """Owns the SNMP client and the rate tracker; cycles are called from scheduler threads.

    A segment cycle publishes :class:`SegmentsMeasured` on ``events`` (capacity keeps its rollups of it).
    """

    def __init__(self, db: Database, settings: Settings, sink: Sink, box: SecretBox, events: EventBus,
                 health: HealthPolicy | None = None) -> None:
        self.db, self.settings, self.sink, self.box, self.events = db, settings, sink, box, events
        self.health = health or load_health()
        self.tracker = RateTracker()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="noc-poller", daemon=True)
        self._thread.start()
        self.client = self._run(self._make_client())
        STATS.register("snmp", lambda: {k: float(v) for k, v in self.client.stats.items()})

    async def _make_client(self) -> SnmpClient:
        return SnmpClient(max_concurrency=self.settings.poll_concurrency)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        """Stop the loop and flush what the sink holds."""
        STATS.unregister("snmp")
        self._run(self.client.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self.sink.flush(timeout=5)

    def _timing(self) -> dict[str, Any]:
        return {"timeout": self.settings.snmp_timeout_s, "retries": self.settings.snmp_retries}

    def segment_cycle(self) -> CycleReport:
        """Poll every segment member device, compute segment utilization and publish it."""
        started = time.perf_counter()
        report = CycleReport("segments")
        if self.settings.shard()[0] != 0:
            return report
        with self.db.session() as s:
            targets = segment_devices(s, self.box, **self._timing())
            segments = segment_definitions(s)
            names = {row.id: row.name for row in s.execute(select(Device.id, Device.name))}
        outcomes = self.poll_targets(targets, self.tracker, capacity_overrides(segments))
        self.store_status(outcomes)
        samples = [x for o in outcomes for x in o.samples]
        self.measure_segments(segments, names, samples, report)
        self._count(report, outcomes, len(samples))
        return self._finish(report, started)

    def measure_segments(self, segments: list[SegmentDef], names: dict[int, str], samples: list[Sample],
                         report: CycleReport) -> None:
        """Segment utilization from the member devices' ``samples``: both to the sink, the points published as
        :class:`SegmentsMeasured` (also for samples polled elsewhere, e.g. by scaled-out workers)."""
        at = int(time.time())
        readings = segment_readings(segments, names, samples, at)
        self.sink.write(samples + readings.samples)
        self.events.publish(SegmentsMeasured(at, tuple(readings.points)))
        for reason, n in readings.withheld.items():
            metrics.INVALID_RATES.labels(reason).inc(n)
        report.segment_points, report.withheld = len(readings.points), readings.withheld

    def poll_targets(self, targets: list[PollTarget], tracker: RateTracker | None,
                     capacities: dict[int, dict[str, float]] | None = None) -> list[PollOutcome]:
        """Poll ``targets`` at once on the poller's loop (rates through ``tracker``; capacities per device id)."""
        return self._run(self._poll_all(targets, tracker, capacities))

    def store_status(self, outcomes: list[PollOutcome]) -> None:
        """Upsert the poll status rows of ``outcomes``."""
        with self.db.session() as s:
            self._store_status(s, outcomes)

    def store_cpes(self, outcomes: list[PollOutcome]) -> CycleReport:
        """Store a batch of CPE polls made elsewhere: samples to the sink (flushed), poll status and health rows
        (upserts keyed by CPE, so storing a batch again leaves one row per CPE)."""
        report = CycleReport("cpes")
        self.sink.write([x for o in outcomes for x in o.samples])
        polled = [self._polled(o) for o in outcomes]
        with self.db.session() as s:
            _upsert_status(s, [p.status for p in polled])
            _upsert_health(s, [p.health for p in polled])
        self._count(report, polled, sum(p.samples for p in polled))
        self.sink.flush()
        return report

    def cpe_cycle(self) -> CycleReport:
        """Poll this shard's CPEs for fleet health and keep each CPE's newest verdict.

        At most ``poll_concurrency`` CPEs are polled at once. Each CPE's samples go to the sink as soon as
        its poll ends and its health is graded then; the database rows are stored in batches of
        ``CPE_BATCH``, after each of which the cycle waits for the sink to store what it accepted, while at
        most ``UNSTORED_LIMIT`` CPEs are polled ahead: a slow store slows polling (backpressure) and nothing
        is dropped. Memory stays flat however large the inventory is. What the sink dropped all the same
        (it could not store it) and how long it held the cycle back are logged in one line per cycle.
        """
        started = time.perf_counter()
        report = CycleReport("cpes")
        before = self.sink.stats()
        with self.db.session() as s:
            targets = cpes(s, self.box, shard=self.settings.shard(), **self._timing())
        held = 0.0
        with closing(self._poll_batches(targets)) as batches, _few_collections():
            for polled in batches:
                with self.db.session() as s:
                    _upsert_status(s, [p.status for p in polled])
                    _upsert_health(s, [p.health for p in polled])
                self._count(report, polled, sum(p.samples for p in polled))
                began = time.monotonic()
                self.sink.flush()
                held += time.monotonic() - began
        self._report_sink(before, held)
        return self._finish(report, started)

    def _report_sink(self, before: dict[str, float], held: float) -> None:
        """One line when the cycle's sink dropped samples or slowed the cycle down."""
        after = self.sink.stats()
        dropped = after.get("points_dropped_total", 0.0) - before.get("points_dropped_total", 0.0)
        waits = after.get("producer_wait_seconds_total", 0.0) - before.get("producer_wait_seconds_total", 0.0)
        if dropped:
            log.error("cpes cycle: the sink dropped %d samples it could not store (noc_sink_points_dropped_total); "
                      "it held the cycle back %.1f s", dropped, held + waits)
        elif held + waits >= 1.0:
            log.info("cpes cycle: the sink held the cycle back %.1f s to keep up; nothing dropped", held + waits)

    def _count(self, report: CycleReport, outcomes: Sequence[PollOutcome | _Polled], samples: int) -> None:
        report.targets += len(outcomes)
        report.samples += samples
        ok = sum(o.ok for o in outcomes)
        report.ok += ok
        report.failed += len(outcomes) - ok
        duration = metrics.POLL_DURATION.labels(report.job)
        for outcome in outcomes:
            duration.observe(outcome.duration_s)
            if not outcome.ok:
                metrics.POLL_ERRORS.labels(report.job, outcome.error_kind).inc()

    def _finish(self, report: CycleReport, started: float) -> CycleReport:
        report.duration_s = time.perf_counter() - started
        metrics.CYCLE_DURATION.labels(report.job).set(report.duration_s)
        metrics.CYCLE_TARGETS.labels(report.job).set(report.targets)
        if report.ok or not report.targets:
            metrics.CYCLE_LAST_SUCCESS.labels(report.job).set_to_current_time()
        log.info("%s cycle: %d targets, %d failed, %d samples in %.2f s", report.job, report.targets,
                 report.failed, report.samples, report.duration_s)
        return report

    def _poll_batches(self, targets: list[PollTarget]) -> Generator[list[_Polled], None, None]:
        """Poll ``targets`` on the loop and yield what to store of them in completion order, ``CPE_BATCH`` at
        a time.

        A CPE's poll starts only while fewer than ``UNSTORED_LIMIT`` CPEs are polled but not yet handed back
        and stored; leaving the iteration early (an error while storing) cancels the polls still running.
        """
        done: queue.Queue[list[_Polled] | BaseException | None] = queue.Queue()
        slots = asyncio.Semaphore(UNSTORED_LIMIT)
        future = asyncio.run_coroutine_threadsafe(self._produce(targets, done, slots), self._loop)
        try:
            while (item := done.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item
                self._loop.call_soon_threadsafe(_release, slots, len(item))
        finally:
            future.cancel()

    async def _produce(self, targets: list[PollTarget], done: queue.Queue[list[_Polled] | BaseException | None],
                       slots: asyncio.Semaphore) -> None:
        pending = iter(targets)
        batch: list[_Polled] = []
        loop = asyncio.get_running_loop()

        async def worker() -> None:
            nonlocal batch
            while True:
                await slots.acquire()
                target = next(pending, None)
                if target is None:
                    slots.release()
                    return
                outcome = await poll(self.client, target, None)
                if outcome.samples:
                    if self.sink.room() >= len(outcome.samples):
                        self.sink.write(outcome.samples)
                    else:  # the sink is behind: wait for it in a thread, the loop goes on serving polls in flight
                        await loop.run_in_executor(None, self.sink.write, outcome.samples)
                batch.append(self._polled(outcome))  # to the batch in force now, not when the poll started
                if len(batch) >= CPE_BATCH:
                    done.put(batch)
                    batch = []

        workers = [asyncio.ensure_future(worker()) for _ in range(min(len(targets), self.settings.poll_concurrency))]
        try:
            await asyncio.gather(*workers)
            if batch:
                done.put(batch)
            done.put(None)
        except BaseException as exc:
            for task in workers:
                task.cancel()
            done.put(exc)
            raise

    def _polled(self, outcome: PollOutcome) -> _Polled:
        """The rows and figures of a CPE's poll (plain values only: cheap to hold until stored)."""
        return _Polled(_status_row(outcome), self._health_row(outcome), outcome.ok, outcome.error_kind,
                       outcome.duration_s, len(outcome.samples))

    async def _poll_all(self, targets: list[PollTarget], tracker: RateTracker | None,
                        capacities: dict[int, dict[str, float]] | None = None) -> list[PollOutcome]:
        caps = capacities or {}
        return list(await asyncio.gather(*(poll(self.client, t, tracker, caps.get(t.id)) for t in targets)))

    def _store_status(self, session: Session, outcomes: list[PollOutcome]) -> None:
        _upsert_status(session, [_status_row(o) for o in outcomes])

    def _health_row(self, outcome: PollOutcome) -> dict[str, Any]:
        """A CPE's health: its worst grade and the findings that are not good (unreachable when it failed)."""
        if not outcome.ok:
            grade, findings = UNREACHABLE, json.dumps([{"error": outcome.error_kind}])
        else:
            found = self.health.findings(outcome.samples)
            graded = worst(found) or Grade.GOOD
            notes = [{"rule": v.rule, "measurement": v.measurement, "tags": dict(v.tags), "field": v.field,
                      "value": v.value, "grade": v.grade.value} for v in found]
            grade, findings = graded.value, json.dumps(notes, default=str) if notes else "[]"
        return {"cpe_id": outcome.target.id, "at": datetime.fromtimestamp(outcome.at, UTC), "grade": grade,
                "findings": findings}


def _status_row(outcome: PollOutcome) -> dict[str, Any]:
    """A target's poll status row as a first poll would leave it (the upsert carries earlier failures on)."""
    at = datetime.fromtimestamp(outcome.at, UTC)
    ok = outcome.ok
    return {"target_kind": outcome.target.kind, "target_id": outcome.target.id, "at": at, "ok": ok,
            "error": outcome.error, "duration_s": round(outcome.duration_s, 4),
            "consecutive_failures": 0 if ok else 1, "last_ok_at": at if ok else None,
            "invalid_readings": len(outcome.invalid), "invalid_detail": invalid_detail(outcome)}


def invalid_detail(outcome: PollOutcome, most: int = 10) -> str:
    """The first ``most`` invalid readings of a poll in one line: ``object row: reason; ...``."""
    named = [f"{r.object}{f' row {r.index}' if r.index else ''}: {r.reason}" for r in outcome.invalid[:most]]
    extra = len(outcome.invalid) - most
    return "; ".join(named) + (f"; and {extra} more" if extra > 0 else "")


def _upsert_status(session: Session, rows: list[dict[str, Any]]) -> None:
    """Upsert poll status rows: failures count up until the next good poll, which ``last_ok_at`` keeps."""
    table = PollStatus.__table__
    stmt = _insert(session, table)
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(index_elements=["target_kind", "target_id"], set_={
        "at": new.at, "ok": new.ok, "error": new.error, "duration_s": new.duration_s,
        "invalid_readings": new.invalid_readings, "invalid_detail": new.invalid_detail,
        "consecutive_failures": case((new.ok, 0), else_=func.coalesce(table.c.consecutive_failures, 0) + 1),
        "last_ok_at": case((new.ok, new.at), else_=table.c.last_ok_at)})
    _execute_many(session, stmt, rows)


def _upsert_health(session: Session, rows: list[dict[str, Any]]) -> None:
    """Upsert CPE health rows (the newest verdict replaces the previous one)."""
    table = CpeHealth.__table__
    stmt = _insert(session, table)
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(index_elements=["cpe_id"], set_={
        "at": new.at, "grade": new.grade, "findings": new.findings})
    _execute_many(session, stmt, rows)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Garbage collection tuned for a cycle: what lives already (targets, caches, the application) is moved out
    of the collector's sight (``gc.freeze``) and the youngest generation is collected every ``GC_GEN0``
    allocations instead of 700; a cycle makes millions of short-lived objects and almost no cycles of them."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_GEN0, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _release(slots: asyncio.Semaphore, n: int) -> None:
    """Give back ``n`` slots (called on the loop, for a batch the caller has stored)."""
    for _ in range(n):
        slots.release()


def _insert(session: Session, table: Any) -> Any:
    """An INSERT of the session's dialect that supports ``on_conflict_do_update`` (SQLite, PostgreSQL)."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"no upsert for database dialect {name}: use SQLite or PostgreSQL")


def _execute_many(session: Session, stmt: Any, rows: list[dict[str, Any]]) -> None:
    """Run ``stmt`` for ``rows``, ``ROWS_PER_STATEMENT`` rows per executemany (none: nothing)."""
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        session.execute(stmt, rows[start:start + ROWS_PER_STATEMENT])
