"""Metrics of the poll cycles (in the kernel's registry, so ``GET /metrics`` shows them)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from noc.core.metrics import REGISTRY

POLL_DURATION = Histogram("noc_poll_duration_seconds", "Time to poll one device or CPE.", ["job"],
                          buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=REGISTRY)
POLL_ERRORS = Counter("noc_poll_errors_total", "Failed polls by job and error kind.", ["job", "error"],
                      registry=REGISTRY)
CYCLE_DURATION = Gauge("noc_poll_cycle_duration_seconds", "Duration of the last poll cycle.", ["job"],
                       registry=REGISTRY)
CYCLE_TARGETS = Gauge("noc_poll_cycle_targets", "Devices or CPEs in the last poll cycle.", ["job"],
                      registry=REGISTRY)
INVALID_RATES = Counter("noc_invalid_rates_total",
                        "Interface rates withheld from decisions (restart, discontinuity, above speed).",
                        ["reason"], registry=REGISTRY)

CYCLE_LAST_SUCCESS = Gauge("noc_poll_cycle_last_success_timestamp_seconds",
                           "When the last poll cycle that polled a target successfully (or had none) ended; "
                           "set to the worker's start at first.", ["job"], registry=REGISTRY)
POLL_INTERVAL = Gauge("noc_poll_interval_seconds", "Seconds between poll cycles of the job.", ["job"],
                      registry=REGISTRY)
SHARDS = Gauge("noc_poll_shards", "CPE shards (poller groups) configured, labelled with this worker's shard.",
               ["shard"], registry=REGISTRY)
