"""Sink statistics exposed to Prometheus; the factory picks the sink the settings ask for."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from collectors.samples import Sample
from collectors.sinks import EmbeddedStore, InfluxSink, SinkCollector, open_sink


def test_stats_become_counters_and_gauges(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path / "s.db", clock=lambda: 1_800_000_000)
    store.write([Sample("poll", (("device", "r1"),), {"duration_s": 0.1, "ok": True}, 1_800_000_000)])
    store.flush(timeout=10)
    registry = CollectorRegistry()
    registry.register(SinkCollector({"embedded": store}))
    text = generate_latest(registry).decode()
    store.close()
    assert any(line.startswith("# TYPE noc_sink_points_written") and line.endswith(" counter")
               for line in text.splitlines())
    assert 'noc_sink_points_written_total{sink="embedded"} 1.0' in text
    assert "# TYPE noc_sink_queue_points gauge" in text
    assert 'noc_sink_series{sink="embedded"} 1.0' in text


def test_open_sink_follows_the_settings(tmp_path: Path) -> None:
    embedded = open_sink(tmp_path)
    assert isinstance(embedded, EmbeddedStore) and embedded.path == tmp_path / "series.db"
    embedded.close()

    class Secret:
        def get_secret_value(self) -> str:
            return "tok-9f3a"

    influx = open_sink(tmp_path, "http://127.0.0.1:9", "org", "bucket", Secret())
    assert isinstance(influx, InfluxSink) and (tmp_path / "spool" / "influx" / "lock").exists()
    assert "tok-9f3a" not in repr(influx)
    influx.close()
