"""Sink statistics as Prometheus metrics."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors.sinks.protocol import Sink


class SinkCollector(Collector):
    """Exposes ``stats()`` of named sinks: ``<namespace>_<key>{sink="<name>"}``.

    Keys ending in ``_total`` become counters, the rest gauges. Register once:
    ``prometheus_client.REGISTRY.register(SinkCollector({"influx": sink}))``.
    """

    def __init__(self, sinks: Mapping[str, Sink], namespace: str = "noc_sink") -> None:
        self.sinks = dict(sinks)
        self.namespace = namespace

    def collect(self) -> Iterator[Metric]:
        families: dict[str, CounterMetricFamily | GaugeMetricFamily] = {}
        for sink_name, sink in sorted(self.sinks.items()):
            for key, value in sorted(sink.stats().items()):
                family = families.get(key)
                if family is None:
                    name = f"{self.namespace}_{key}"
                    doc = f"Sink statistic {key}."
                    if key.endswith("_total"):
                        family = CounterMetricFamily(name.removesuffix("_total"), doc, labels=["sink"])
                    else:
                        family = GaugeMetricFamily(name, doc, labels=["sink"])
                    families[key] = family
                family.add_metric([sink_name], value)
        yield from families.values()
