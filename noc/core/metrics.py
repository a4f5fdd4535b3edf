"""noc's own metrics registry (Prometheus format at ``GET /metrics``); capabilities add theirs to ``REGISTRY``."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

CYCLES_SKIPPED = Counter("noc_poll_cycles_skipped_total",
                         "Scheduled runs not started because the previous run of the same job still ran.", ["job"],
                         registry=REGISTRY)
EVENT_FAILURES = Counter("noc_event_handler_failures_total",
                         "Subscribers that failed on a published event (logged with their traceback).",
                         ["event", "handler"], registry=REGISTRY)


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
