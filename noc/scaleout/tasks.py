"""The tasks a poller-group worker runs: one batch of CPEs (stored by the worker, once per cycle) or one batch of
segment devices (rates through the shared counter state; the samples go back to the leader)."""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import Any

from celery import Task
from celery.signals import worker_process_shutdown, worker_shutdown

from collectors.samples import Sample
from collectors.snmp.device_poll import PollOutcome
from noc.core.settings import Settings
from noc.polling.targets import cpes, segment_devices
from noc.scaleout.app import app
from noc.scaleout.rates import SharedRates
from noc.scaleout.state import SharedState
from noc.scaleout.worker import WorkerContext

log = logging.getLogger("noc.scaleout")
_context: WorkerContext | None = None
_settings: Settings | None = None
_building = threading.Lock()


def use_settings(settings: Settings) -> None:
    """Settings for this process's worker context (default: the environment's)."""
    global _settings
    _settings = settings


def context() -> WorkerContext:
    """This process's worker context (built on first use)."""
    global _context
    with _building:
        if _context is None:
            _context = WorkerContext(_settings or Settings())
        return _context


@worker_shutdown.connect
@worker_process_shutdown.connect
def _close(**_: Any) -> None:
    global _context
    if _context is not None:
        _context.close()
        _context = None


def lease_s(settings: Settings) -> float:
    """How long a worker may take to store a batch it claimed: half the visibility timeout, so a batch whose
    worker died is claimable again when the broker hands it out anew."""
    return settings.broker_visibility_timeout_s / 2


def at_cycle_time(outcomes: list[PollOutcome], at: int) -> list[PollOutcome]:
    """``outcomes`` with their samples stamped at the cycle's time ``at``: a series has one point per cycle, so
    a batch stored again after its worker died mid-store rewrites the same points (the embedded store and
    InfluxDB both keep one point per series and time) instead of adding a second sample."""
    return [dataclasses.replace(o, samples=[Sample(x.measurement, x.tags, x.fields, at) for x in o.samples])
            for o in outcomes]


@app.task(bind=True, name="noc.poll_cpes", max_retries=None)
def poll_cpes(self: Task, cycle: str, group: str, batch: int, ids: list[int], at: int) -> dict[str, int]:
    """Poll CPEs ``ids`` for ``cycle`` (started at ``at``) and store them once: a batch already stored is
    skipped, one whose storing another worker holds is retried when that claim lapses, and the samples carry
    the cycle's time, so storing a batch again never doubles a sample."""
    ctx = context()
    s = ctx.settings
    state = SharedState(ctx.redis, s.broker_prefix)
    if state.is_done(cycle, group, batch):
        return _skipped(state, group, cycle, ids)
    with ctx.runtime.db.session() as session:
        targets = cpes(session, ctx.box, timeout=s.snmp_timeout_s,
                       retries=s.snmp_retries, ids=ids)
    outcomes = at_cycle_time(ctx.poller.poll_targets(targets, None), at)
    claim = state.claim(cycle, group, batch, ctx.name, lease_s(s))
    if claim == "done":
        return _skipped(state, group, cycle, ids)
    if claim == "held":
        raise self.retry(countdown=lease_s(s))
    report = ctx.poller.store_cpes(outcomes)
    state.finish("cpes", group, cycle, batch, ctx.name, [f"cpe:{t.id}" for t in targets])
    return {"targets": report.targets, "ok": report.ok}


def _skipped(state: SharedState, group: str, cycle: str, ids: list[int]) -> dict[str, int]:
    """A batch stored already: its group's progress brought up to date (the worker that stored it may have died
    before it did so), nothing polled."""
    state.progress("cpes", group, cycle)
    return {"targets": 0, "skipped": len(ids)}


@app.task(bind=True, name="noc.poll_devices", max_retries=None)
def poll_devices(self: Task, cycle: str, group: str, batch: int, ids: list[int],
                 capacities: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Poll segment devices ``ids`` with the shared counter state and store their poll status; the samples
    (rates included) are the result, which the leader turns into segment utilization."""
    ctx = context()
    s = ctx.settings
    with ctx.runtime.db.session() as session:
        wanted = set(ids)
        targets = [t for t in segment_devices(session, ctx.box,
                                              timeout=s.snmp_timeout_s, retries=s.snmp_retries) if t.id in wanted]
    rates = SharedRates(ctx.redis, s.broker_prefix)
    rates.load(t.name for t in targets)
    outcomes = ctx.poller.poll_targets(targets, rates, {int(k): v for k, v in capacities.items()})
    rates.save()
    ctx.poller.store_status(outcomes)
    SharedState(ctx.redis, s.broker_prefix).finish("segments", group, cycle, batch, ctx.name,
                                                   [f"device:{t.id}" for t in targets])
    return [dataclasses.asdict(x) for o in outcomes for x in o.samples]
