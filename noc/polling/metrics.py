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

