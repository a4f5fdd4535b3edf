"""The leader job of scaled-out polling (only with ``NOC_BROKER_URL``): every node that schedules ticks, the
one holding the lease starts the cycles."""

from __future__ import annotations

from datetime import datetime

import redis
from apscheduler.schedulers.background import BackgroundScheduler

from noc.core.capability import Runtime
from noc.polling import metrics as polling_metrics
from noc.polling.jobs import open_poller
from noc.scaleout.app import make_app
from noc.scaleout.service import Leader


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """Add ``poll.lead`` (a third of the lease apart) when a broker is set; nothing without one. The leader sets
    the segment cycle's success time as the in-process poller does, so the alert on stale cycles works either way."""
    settings = runtime.settings
    if settings.broker_url is None:
        return
    poller = open_poller(runtime)
    # what the alert on stale segment cycles reads, counted from this node's start until it leads a cycle
    for job, interval in (("segments", settings.poll_segment_interval_s), ("cpes", settings.poll_cpe_interval_s)):
        polling_metrics.POLL_INTERVAL.labels(job).set(interval)
    polling_metrics.CYCLE_LAST_SUCCESS.labels("segments").set_to_current_time()
    leader = Leader(runtime, make_app(settings), redis.Redis.from_url(settings.broker_url.get_secret_value()),
                    poller)
    runtime.closers.append(leader.release)  # before the poller closes: closers run newest first
    scheduler.add_job(leader.tick, "interval", seconds=leader.lease / 3, id="poll.lead",
                      next_run_time=datetime.now().astimezone())
