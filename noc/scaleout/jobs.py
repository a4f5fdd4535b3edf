"""The leader job of scaled-out polling (only with ``NOC_BROKER_URL``): every node that schedules ticks, the
one holding the lease starts the cycles."""

from __future__ import annotations

from datetime import datetime

import redis
from apscheduler.schedulers.background import BackgroundScheduler

from collectors.sinks import SinkCollector, open_sink
from noc.core.capability import Runtime
from noc.core.metrics import REGISTRY
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.polling.service import Poller
from noc.scaleout.app import make_app
from noc.scaleout.service import Leader


def add_jobs(scheduler: BackgroundScheduler, runtime: Runtime) -> None:
    """Add ``poll.lead`` (a third of the lease apart) when a broker is set; nothing without one."""
    settings = runtime.settings
    if settings.broker_url is None:
        return
    sink = open_sink(settings.data_dir, settings.influx_url, settings.influx_org, settings.influx_bucket,
                     settings.influx_token)
    collector = SinkCollector({"influx" if settings.influx_url else "embedded": sink})
    REGISTRY.register(collector)
    poller = Poller(runtime.db, settings, sink, runtime.secret_box(CREDENTIALS_PURPOSE), runtime.events)
    leader = Leader(runtime, make_app(settings), redis.Redis.from_url(settings.broker_url.get_secret_value()),
                    poller)

    def close() -> None:
        leader.release()
        poller.close()
        sink.close()
        REGISTRY.unregister(collector)

    runtime.closers.append(close)
    scheduler.add_job(leader.tick, "interval", seconds=leader.lease / 3, id="poll.lead",
                      next_run_time=datetime.now().astimezone())
