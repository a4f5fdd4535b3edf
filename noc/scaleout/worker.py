"""What a poller-group worker process holds: settings, database, sink and a poller, built on its first batch."""

from __future__ import annotations

import gc
import logging
import os
import socket
from dataclasses import dataclass
from functools import cached_property

import redis

from collectors.sinks import Sink, open_sink
from noc.core.capability import Runtime
from noc.core.crypto import SecretBox
from noc.core.db import Database
from noc.core.settings import Settings
from noc.inventory.service import CREDENTIALS_PURPOSE
from noc.polling.service import GC_GEN0, Poller


@dataclass
class WorkerContext:
    """One per worker process (built lazily, closed at the process's end)."""

    settings: Settings

    @cached_property
    def runtime(self) -> Runtime:
        return Runtime(self.settings, Database(self.settings.resolved_database_url()))

    @cached_property
    def box(self) -> SecretBox:
        return self.runtime.secret_box(CREDENTIALS_PURPOSE)

    @cached_property
    def sink(self) -> Sink:
        s = self.settings
        return open_sink(s.data_dir, s.influx_url, s.influx_org, s.influx_bucket, s.influx_token)

    @cached_property
    def poller(self) -> Poller:
        rt = self.runtime
        return Poller(rt.db, self.settings, self.sink, self.box, rt.events)

    @cached_property
    def redis(self) -> redis.Redis:
        url = self.settings.broker_url
        return redis.Redis.from_url(url.get_secret_value() if url else "redis://127.0.0.1:6379/0")

    @cached_property
    def name(self) -> str:
        """This worker in the cycles' ledgers: host and process id."""
        return f"{socket.gethostname()}:{os.getpid()}"

    def close(self) -> None:
        """Stop the poller, flush and close the sink, dispose of the database (only what was built)."""
        if "poller" in self.__dict__:
            self.poller.close()
        if "sink" in self.__dict__:
            self.sink.close()
        if "runtime" in self.__dict__:
            self.runtime.db.dispose()


def run(settings: Settings, groups: list[str], concurrency: int, log_level: str) -> None:
    """Run a Celery worker consuming the queues of poller ``groups`` until it is stopped (``noc worker
    --poller-group``): batches run in ``concurrency`` threads, so the worker answers pings while it polls."""
    from noc.scaleout import tasks
    from noc.scaleout.app import app, configure
    from noc.scaleout.state import queue_of

    configure(app, settings)
    tasks.use_settings(settings)
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # a line per batch, with its samples: too much
    gc.set_threshold(GC_GEN0, *gc.get_threshold()[1:])  # as a CPE cycle in-process: polls make short-lived garbage
    queues = ",".join(queue_of(settings.broker_prefix, g, segments) for g in groups for segments in (True, False))
    app.worker_main(["worker", "-Q", queues, "-P", "threads", "-c", str(concurrency), "-n",
                     f"{'+'.join(groups)}@{socket.gethostname()}.{os.getpid()}", "--without-gossip",
                     "--without-mingle", "-l", log_level])
