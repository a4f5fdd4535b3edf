"""Metrics about noc itself, in Prometheus format at ``GET /metrics``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

POLL_DURATION = Histogram("noc_poll_duration_seconds", "Time to poll one device or CPE.", ["job"],
                          buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=REGISTRY)
POLL_ERRORS = Counter("noc_poll_errors_total", "Failed polls by job and error kind.", ["job", "error"],
                      registry=REGISTRY)
CYCLE_DURATION = Gauge("noc_poll_cycle_duration_seconds", "Duration of the last poll cycle.", ["job"],
                       registry=REGISTRY)
CYCLE_TARGETS = Gauge("noc_poll_cycle_targets", "Devices or CPEs in the last poll cycle.", ["job"],
                      registry=REGISTRY)
CYCLES_SKIPPED = Counter("noc_poll_cycles_skipped_total",
                         "Cycles not started because the previous one of the same job still ran.", ["job"],
                         registry=REGISTRY)
ROLLUPS_STORED = Counter("noc_segment_rollups_stored_total", "Segment rollups written to the database.",
                         registry=REGISTRY)
INVALID_RATES = Counter("noc_invalid_rates_total",
                        "Interface rates withheld from decisions (restart, discontinuity, above speed).",
                        ["reason"], registry=REGISTRY)


class StatsCollector(Collector):
    """Exposes numbers that components keep themselves (sink spool, SNMP client) as gauges at scrape time."""

    def __init__(self) -> None:
        self._sources: dict[str, Callable[[], dict[str, float]]] = {}

    def register(self, prefix: str, source: Callable[[], dict[str, float]]) -> None:
        """Publish ``source()``'s numbers as ``noc_<prefix>_<name>``."""
        self._sources[prefix] = source

    def unregister(self, prefix: str) -> None:
        """Stop publishing ``prefix``."""
        self._sources.pop(prefix, None)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for prefix, source in list(self._sources.items()):
            for name, value in sorted(source().items()):
                yield GaugeMetricFamily(f"noc_{prefix}_{name}", f"{prefix} {name.replace('_', ' ')}", value=value)


STATS = StatsCollector()
REGISTRY.register(STATS)


def exposition() -> bytes:
    """The current metrics in Prometheus text format."""
    return generate_latest(REGISTRY)
