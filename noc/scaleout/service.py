"""The scheduler side of scaled-out polling: one leader (a Redis lock with a lease) starts each cycle once and
sends its batches to the poller groups' queues; an overview of groups, workers and cycles for the API and
/metrics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
from celery import Celery
from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.samples import Sample
from noc.core.capability import Runtime
from noc.core.settings import Settings
from noc.inventory.models import Cpe, Device, SegmentMember
from noc.polling import metrics as polling_metrics
from noc.polling.service import CycleReport, Poller
from noc.polling.targets import capacity_overrides, segment_definitions
from noc.scaleout import metrics
from noc.scaleout.app import RESTORE_EVERY_S, SWEEP_LOCK_S, broker_key
from noc.scaleout.state import SEGMENTS, SharedState, queue_of

log = logging.getLogger("noc.scaleout")
RUNNING_CYCLES_MAX = 3
"""Intervals after which a group's unfinished CPE cycle no longer holds the next one back."""
JOBS = ("segments", "cpes")


def lease_of(segment_interval_s: float) -> float:
    """Seconds the leader's lease lasts: a third of the segment interval (at least 3 s), renewed three times
    per lease, so a dead leader is replaced well within one segment interval."""
    return max(3.0, segment_interval_s / 3)


def batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    """``ids`` in consecutive chunks of ``size``."""
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


def sample_of(row: dict[str, Any]) -> Sample:
    """A sample sent back by a worker (JSON: tags as lists)."""
    return Sample(row["measurement"], tuple((str(k), str(v)) for k, v in row["tags"]), row["fields"], row["time"])


class Observer:
    """Reads the state of scaled-out polling: groups, their live workers, newest cycles and lag."""

    def __init__(self, settings: Settings, app: Celery, client: redis.Redis) -> None:
        self.app, self.redis, self.prefix = app, client, settings.broker_prefix
        self.state = SharedState(client, self.prefix)
        self.intervals = {"segments": settings.poll_segment_interval_s, "cpes": settings.poll_cpe_interval_s}

    @classmethod
    def of(cls, settings: Settings) -> Observer:
        """An observer on ``settings``' broker."""
        from noc.scaleout.app import make_app

        url = settings.broker_url.get_secret_value() if settings.broker_url else "redis://127.0.0.1:6379/0"
        return cls(settings, make_app(settings), redis.Redis.from_url(url))

    def overview(self, groups: Collection[str]) -> dict[str, Any]:
        """Groups with their live workers (Celery's inspect), newest cycles and lag; also sets the gauges."""
        replies: dict[str, Any] = self.app.control.inspect(timeout=1.0).active_queues() or {}
        now = time.time()
        out = []
        for group in sorted(set(groups) | _groups_of(replies, self.prefix)):
            queue = queue_of(self.prefix, group)
            workers = sorted(host for host, queues in replies.items() if queue in {q["name"] for q in queues or []})
            metrics.WORKERS.labels(group).set(len(workers))
            cycles: dict[str, dict[str, Any] | None] = {}
            for job in JOBS:
                last = self.state.last_cycle(job, group)
                view = cycles[job] = _cycle_view(last, now, self.intervals[job]) if last else None
                metrics.LAG.labels(group, job).set(view["lag_s"] if view else 0)
            out.append({"group": group, "queue": queue, "workers": workers, "cycles": cycles})
        return {"groups": out}



class Leader(Observer):
    """Ticks on every scheduling node; the one holding the lease starts each due cycle once per interval slot."""

    def __init__(self, runtime: Runtime, app: Celery, client: redis.Redis, poller: Poller) -> None:
        super().__init__(runtime.settings, app, client)
        self.runtime, self.poller = runtime, poller
        self.batch_size = runtime.settings.broker_batch_size
        self.closing = threading.Event()
        self.lease = lease_of(runtime.settings.poll_segment_interval_s)
        self.lock = client.lock(self.state.keys.leader(), timeout=self.lease, thread_local=False)
        self.pool = ThreadPoolExecutor(len(JOBS), thread_name_prefix="noc-cycle")
        self.asking = ThreadPoolExecutor(3, thread_name_prefix="noc-inspect")
        self.grace = runtime.settings.broker_visibility_timeout_s + RESTORE_EVERY_S + SWEEP_LOCK_S
        self.unseen: dict[tuple[str, str, int], float] = {}

    def tick(self) -> None:
        """Hold or take the lease; as leader, start every cycle whose interval slot has not started yet."""
        leading = self._hold()
        metrics.LEADER.set(int(leading))
        with self.runtime.db.session() as s:
            groups = configured_groups(s)
        self.overview(groups)
        if not leading:
            return
        now = time.time()
        for job, interval in self.intervals.items():
            cycle = f"{job}:{int(now // interval)}"
            if self.state.start_cycle(cycle, {"started_at": now, "interval_s": interval}):
                metrics.CYCLES_STARTED.labels(job).inc()
                log.info("started cycle %s", cycle)
                self.pool.submit(self._run, job, cycle)
        self.recover(groups)

    def recover(self, groups: Collection[str]) -> int:
        """Send again the CPE batches the broker lost; returns how many.

        Kombu's Redis transport takes a batch off its queue before it notes it as taken, so a worker that dies in
        between loses it, and its group's cycle would never finish (the group's next cycles are skipped while it
        runs). A batch of a group's unfinished cycle that is not stored, while the group's queue is empty and no
        live worker holds it (running, prefetched or waiting to retry), is lost once that has lasted longer than a
        dead worker's batches take to come back (:attr:`grace`). Sending one again is safe: a batch is stored once.
        """
        now = time.monotonic()
        waiting: dict[tuple[str, str], set[int]] = {}
        for group in groups:
            last = self.state.last_cycle("cpes", group)
            if last and not last.get("finished_at"):
                missing = self.state.unstored(last["cycle"], group)
                if missing and not self.redis.llen(broker_key(self.prefix, queue_of(self.prefix, group))):
                    waiting[(last["cycle"], group)] = missing
        held = self._held() if waiting else set()
        unseen: dict[tuple[str, str, int], float] = {}
        resent = 0
        for (cycle, group), missing in waiting.items():
            lost = []
            for batch in sorted(missing):
                if (cycle, group, batch) not in held:
                    since = unseen[(cycle, group, batch)] = self.unseen.get((cycle, group, batch), now)
                    if now - since >= self.grace:
                        lost.append(batch)
                        unseen[(cycle, group, batch)] = now
            if lost:
                for args in self.state.batch_args(cycle, group, lost):
                    self.app.send_task("noc.poll_cpes", args, queue=queue_of(self.prefix, group), ignore_result=True)
                metrics.BATCHES_RESENT.labels(group).inc(len(lost))
                log.warning("cpes cycle %s: %d batches of group %s lost by the broker (not stored, in no queue, held "
                            "by no worker for %.0f s) sent again", cycle, len(lost), group, self.grace)
                resent += len(lost)
        self.unseen = unseen
        return resent

    def _held(self) -> set[tuple[str, str, int]]:
        """(cycle, group, batch) of the CPE batches live workers hold: running, prefetched, waiting to retry."""
        inspect = self.app.control.inspect(timeout=1.0)
        active, reserved, scheduled = (self.asking.submit(ask) for ask in (
            inspect.active, inspect.reserved, inspect.scheduled))
        requests = [r for replies in (active.result(), reserved.result()) for tasks in (replies or {}).values()
                    for r in tasks or []]
        requests += [s["request"] for tasks in (scheduled.result() or {}).values() for s in tasks or []]
        return {(str(r["args"][0]), str(r["args"][1]), int(r["args"][2])) for r in requests
                if r.get("name") == "noc.poll_cpes" and isinstance(r.get("args"), list) and len(r["args"]) >= 3}

    def _hold(self) -> bool:
        try:
            if self.lock.owned():
                return bool(self.lock.reacquire())
            if self.lock.acquire(blocking=False):
                log.info("took the scheduler lease (for %.0f s, renewed while this node runs)", self.lease)
                return True
            return False
        except redis.exceptions.LockError:
            return False
        except redis.RedisError as exc:
            log.warning("scheduler lease: Redis did not answer (%s); not leading", exc.__class__.__name__)
            return False

    def release(self) -> None:
        """Give the lease up (at shutdown), so another node takes over at once."""
        try:
            if self.lock.owned():
                self.lock.release()
        except redis.RedisError as exc:
            log.warning("scheduler lease: not released (Redis: %s); another node takes over when it expires",
                        exc.__class__.__name__)
        metrics.LEADER.set(0)
        self.closing.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.asking.shutdown(wait=True, cancel_futures=True)

    def _run(self, job: str, cycle: str) -> None:
        try:
            self.segment_cycle(cycle) if job == "segments" else self.cpe_cycle(cycle)
        except Exception:
            log.exception("%s cycle %s failed to start", job, cycle)

    def cpe_cycle(self, cycle: str) -> int:
        """Send every enabled CPE with an address to its group's queue in batches; returns the batches sent."""
        with self.runtime.db.session() as s:
            rows = s.execute(select(Cpe.poller_group, Cpe.id).where(
                Cpe.enabled.is_(True), Cpe.address.is_not(None)).order_by(Cpe.poller_group, Cpe.id)).all()
        sent, at = 0, int(time.time())
        for group, ids in _by_group(rows).items():
            if self._running("cpes", group):
                metrics.CYCLES_SKIPPED.labels(group).inc()
                log.warning("cpes cycle %s: group %s still runs its previous cycle; skipped", cycle, group)
                continue
            chunks = {sent + n: [cycle, group, sent + n, chunk, at]
                      for n, chunk in enumerate(batches(ids, self.batch_size))}
            self.state.record_batches(cycle, group, chunks)
            self.state.record_group("cpes", group, cycle, len(chunks), len(ids))
            for args in chunks.values():
                self.app.send_task("noc.poll_cpes", args, queue=queue_of(self.prefix, group), ignore_result=True)
            sent += len(chunks)
        log.info("cpes cycle %s: %d CPEs in %d batches sent", cycle, len(rows), sent)
        return sent

    def _running(self, job: str, group: str) -> bool:
        """Whether the group's newest cycle of ``job`` is unfinished and younger than ``RUNNING_CYCLES_MAX``
        intervals."""
        last = self.state.last_cycle(job, group)
        return bool(last) and not last.get("finished_at") and (
            time.time() - float(last["started_at"]) < RUNNING_CYCLES_MAX * self.intervals[job])

    def segment_cycle(self, cycle: str) -> CycleReport:
        """Send the segment devices to their groups' queues, gather their samples (rates computed by the
        workers) within the interval, and measure and publish segment utilization here (a cycle that got samples,
        or had no devices, is a success)."""
        with self.runtime.db.session() as s:
            segments = segment_definitions(s)
            names = {row.id: row.name for row in s.execute(select(Device.id, Device.name))}
            rows = s.execute(select(Device.poller_group, Device.id).where(
                Device.enabled.is_(True), Device.id.in_(select(SegmentMember.device_id)))
                .order_by(Device.poller_group, Device.id)).all()
        caps = capacity_overrides(segments)
        pending: list[tuple[str, Any]] = []
        for group, ids in _by_group(rows).items():
            chunks = list(batches(ids, self.batch_size))
            self.state.record_group("segments", group, cycle, len(chunks), len(ids))
            for chunk in chunks:
                sent = self.app.send_task("noc.poll_devices", (cycle, group, len(pending), chunk,
                                                               {str(i): caps[i] for i in chunk if i in caps}),
                                          queue=queue_of(self.prefix, group, segments=True))
                pending.append((group, sent))
        deadline = time.monotonic() + self.intervals["segments"]
        samples: list[Sample] = []
        for group, result in pending:
            while not result.ready() and time.monotonic() < deadline and not self.closing.is_set():
                time.sleep(0.05)
            try:
                samples += [sample_of(row) for row in result.get(timeout=0.1)]
            except Exception as exc:
                metrics.BATCHES_MISSING.labels(group).inc()
                log.warning("segments cycle %s: a batch of group %s gave no samples (%s)", cycle, group,
                            exc.__class__.__name__)
            finally:
                result.forget()
        if self.closing.is_set():
            return CycleReport("segments")
        report = CycleReport("segments", targets=len(rows))
        self.poller.measure_segments(segments, names, samples, report)
        if samples or not rows:
            polling_metrics.CYCLE_LAST_SUCCESS.labels("segments").set_to_current_time()
        return report


def configured_groups(session: Session) -> set[str]:
    """The poller groups the inventory's devices and CPEs name."""
    return set(session.scalars(select(Device.poller_group).distinct())) | set(
        session.scalars(select(Cpe.poller_group).distinct()))


def _by_group(rows: Sequence[Any]) -> dict[str, list[int]]:
    grouped: dict[str, list[int]] = {}
    for group, target_id in rows:
        grouped.setdefault(group, []).append(target_id)
    return grouped


def _groups_of(replies: dict[str, Any], prefix: str) -> set[str]:
    """Groups whose queue some worker consumes."""
    head = f"{prefix}.poll."
    return {q["name"][len(head):] for queues in replies.values() for q in queues or []
            if q["name"].startswith(head) and not q["name"].endswith(SEGMENTS)}


def _cycle_view(last: dict[str, str], now: float, interval: float) -> dict[str, Any]:
    started = float(last["started_at"])
    finished = float(last["finished_at"]) if last.get("finished_at") else None
    return {"cycle": last["cycle"], "started_at": started, "finished_at": finished,
            "batches": int(last["batches"]), "batches_done": int(last["done"]), "targets": int(last["targets"]),
            "lag_s": 0.0 if finished is not None else round(max(0.0, now - started - interval), 1)}
