"""Scheduling: a cycle never overlaps itself, and a skipped cycle is counted in /metrics."""

from __future__ import annotations

import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler

from noc.core import metrics
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.scheduler import build_scheduler
from noc.core.settings import Settings


def test_a_slow_cycle_is_skipped_not_overlapped(db: Database, settings: Settings) -> None:
    running, overlaps, runs = threading.Semaphore(1), [], []

    def slow_cycle() -> None:
        if not running.acquire(blocking=False):
            overlaps.append(time.monotonic())
            return
        runs.append(time.monotonic())
        time.sleep(2.5)
        running.release()

    def provider(scheduler: BackgroundScheduler, rt: Runtime) -> None:
        scheduler.add_job(slow_cycle, "interval", seconds=1, id="poll.slow")

    before = metrics.REGISTRY.get_sample_value("noc_poll_cycles_skipped_total", {"job": "poll.slow"}) or 0.0
    scheduler = build_scheduler(Runtime(settings, db), [provider])
    scheduler.start()
    time.sleep(4.2)
    scheduler.shutdown(wait=True)
    after = metrics.REGISTRY.get_sample_value("noc_poll_cycles_skipped_total", {"job": "poll.slow"}) or 0.0
    assert overlaps == [] and len(runs) >= 1
    assert after - before >= 1
    assert b'noc_poll_cycles_skipped_total{job="poll.slow"}' in metrics.exposition()
