"""The leader job of scaled-out polling (only with ``NOC_BROKER_URL``): every node that schedules ticks, the
one holding the lease starts the cycles."""

from __future__ import annotations

from datetime import datetime

import redis
from apscheduler.schedulers.background import BackgroundScheduler

from noc.core.capability import Runtime
from noc.polling.jobs import open_poller
from noc.scaleout.app import make_app
from noc.scaleout.service import Leader


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """Add ``poll.lead`` (a third of the lease apart) when a broker is set; nothing without one."""
    settings = runtime.settings
    if settings.broker_url is None:
        return
    poller = open_poller(runtime)
    leader = Leader(runtime, make_app(settings), redis.Redis.from_url(settings.broker_url.get_secret_value()),
                    poller)
    runtime.closers.append(leader.release)  # before the poller closes: closers run newest first
    scheduler.add_job(leader.tick, "interval", seconds=leader.lease / 3, id="poll.lead",
                      next_run_time=datetime.now().astimezone())
