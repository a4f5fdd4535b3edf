"""Metrics of scaled-out polling (in the kernel's registry, so ``GET /metrics`` shows them)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from noc.core.metrics import REGISTRY

LEADER = Gauge("noc_poll_leader", "1 while this node holds the scheduler lease and starts the poll cycles.",
               registry=REGISTRY)
CYCLES_STARTED = Counter("noc_poll_cycles_started_total", "Poll cycles this node started as leader.", ["job"],
                         registry=REGISTRY)
WORKERS = Gauge("noc_poller_group_workers", "Workers answering on the poller group's queue.", ["group"],
                registry=REGISTRY)
LAG = Gauge("noc_poller_group_lag_seconds", "How long the group's newest cycle has run past its interval "
            "unfinished (0: finished in time).", ["group", "job"], registry=REGISTRY)
BATCHES_MISSING = Counter("noc_poll_batches_missing_total", "Segment batches whose samples did not come back "
                          "within the interval.", ["group"], registry=REGISTRY)
CYCLES_SKIPPED = Counter("noc_poll_group_cycles_skipped_total", "CPE cycles not started for a group because its "
                         "previous cycle was still running.", ["group"], registry=REGISTRY)
BATCHES_RESENT = Counter("noc_poll_batches_resent_total", "CPE batches sent again because the broker lost them "
                         "(not stored, in no queue, in no worker's hands).", ["group"], registry=REGISTRY)
