"""Scheduling the poll cycles: segments every minute, CPE fleet health every 15 minutes (by default)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from collectors.sinks import SinkCollector, open_sink
from noc.core.capability import Runtime
from noc.core.metrics import REGISTRY
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.polling import metrics
from noc.polling.service import Poller

FIRST_CPE_CYCLE_MAX_DELAY_S = 20
"""The first CPE cycle starts within this many seconds, so fresh health shows soon after a start."""


def open_poller(runtime: Runtime) -> Poller:
    """A poller on the sink the settings ask for (its metrics registered); the runtime's clean-up closes both."""
    settings = runtime.settings
    sink = open_sink(settings.data_dir, settings.influx_url, settings.influx_org, settings.influx_bucket,
                     settings.influx_token)
    collector = SinkCollector({"influx" if settings.influx_url else "embedded": sink})
    REGISTRY.register(collector)
    poller = Poller(runtime.db, settings, sink, runtime.secret_box(CREDENTIALS_PURPOSE), runtime.events)

    def close() -> None:
        poller.close()
        sink.close()
        REGISTRY.unregister(collector)

    runtime.closers.append(close)
    return poller


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """Create the sink and poller, add both poll jobs (with jitter), and register their clean-up.

    With a broker (``NOC_BROKER_URL``) polling is scaled out to poller-group workers instead (noc.scaleout).
    """
    settings = runtime.settings
    if settings.broker_url is not None:
        return
    poller = open_poller(runtime)

    shard, shards = settings.shard()
    segment_s, cpe_s = settings.poll_segment_interval_s, settings.poll_cpe_interval_s
    jobs = {"segments": segment_s, "cpes": cpe_s} if shard == 0 else {"cpes": cpe_s}
    for job, interval in jobs.items():  # the alert on stale cycles counts intervals from the worker's start
        metrics.POLL_INTERVAL.labels(job).set(interval)
        metrics.CYCLE_LAST_SUCCESS.labels(job).set_to_current_time()
    metrics.SHARDS.labels(str(shard)).set(shards)

    runtime.closers.append(lambda: metrics.SHARDS.remove(str(shard)))
    now = datetime.now().astimezone()
    scheduler.add_job(poller.segment_cycle, "interval", seconds=segment_s, id="poll.segments",
                      next_run_time=now + timedelta(seconds=1), jitter=max(1, segment_s // 20))
    scheduler.add_job(poller.cpe_cycle, "interval", seconds=cpe_s, id="poll.cpes",
                      next_run_time=now + timedelta(seconds=random.uniform(2, FIRST_CPE_CYCLE_MAX_DELAY_S)),
                      jitter=max(1, cpe_s // 20))
