"""InfluxSink against a real VictoriaMetrics: names, tags, values, seconds; outages, spool, order, secrets."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from influxdb_client import WriteOptions

from collectors.samples import Sample
from collectors.sinks import InfluxSink, Sink

from .conftest import RecordingProxy, VictoriaMetrics, VmFactory, free_port

T0 = int(time.time()) - 3 * 3600  # inside VictoriaMetrics' retention, one distinct second per sample
TOKEN = "s3cr3t-T0KEN-do-not-leak"


def fast_options(**overrides: int) -> WriteOptions:
    """Small batches and short retries so outages show up within the test's time."""
    values = {"batch_size": 50, "flush_interval": 100, "max_retries": 2, "retry_interval": 100,
              "max_retry_delay": 400, "max_retry_time": 2_000, "exponential_base": 2, "jitter_interval": 0}
    values.update(overrides)
    return WriteOptions(**values)


def make_sink(url: str, spool: Path, **kwargs: object) -> InfluxSink:
    kwargs.setdefault("write_options", fast_options())
    return InfluxSink(url, "noc", "noc", TOKEN, spool, timeout=2.0, **kwargs)  # type: ignore[arg-type]


def seq_samples(i: int, devices: tuple[str, ...] = ("a", "b", "c")) -> list[Sample]:
    return [Sample("outage", (("device", d),), {"seq": i}, T0 + i) for d in devices]


def seconds(series: list[tuple[int, float]]) -> list[int]:
    return [ms // 1000 for ms, _ in series]


def test_samples_arrive_with_names_tags_values_and_seconds(proxy: RecordingProxy, vm: VictoriaMetrics,
                                                           tmp_path: Path) -> None:
    sink = make_sink(proxy.url, tmp_path / "spool")
    assert isinstance(sink, Sink)
    sink.write([
        Sample("interface", (("device", "r1"), ("ifindex", "3")),
               {"in_bps": 1.5e9, "out_bps": 2.25e8, "in_octets": 123456789012, "out_octets": 9,
                "speed_bps": 10_000_000_000, "oper_status": 1, "valid": True}, T0),
        Sample("interface", (("device", "r1"), ("ifindex", "3")), {"in_bps": 7.0, "valid": False}, T0 + 60),
        Sample("segment", (("segment", "hub-1 DS"), ("direction", "down")),
               {"utilization": 0.71, "bps": 7.1e9, "capacity_bps": 1e10}, T0),
        Sample("poll", (("device", "r1"),), {"duration_s": 0.25, "ok": True}, T0),
    ])
    sink.flush(timeout=10)
    stats = sink.stats()
    sink.close()
    assert stats["points_written_total"] == 4 and stats["spool_points"] == 0 and stats["up"] == 1

    iface = vm.export("interface")
    key = (("device", "r1"), ("ifindex", "3"))
    assert iface[("interface_in_bps", key)] == [(T0 * 1000, 1.5e9), ((T0 + 60) * 1000, 7.0)]
    assert iface[("interface_in_octets", key)] == [(T0 * 1000, 123456789012)]
    assert iface[("interface_speed_bps", key)] == [(T0 * 1000, 1e10)]
    assert iface[("interface_valid", key)] == [(T0 * 1000, 1), ((T0 + 60) * 1000, 0)]
    assert {name for name, _ in iface} == {f"interface_{f}" for f in (
        "in_bps", "out_bps", "in_octets", "out_octets", "speed_bps", "oper_status", "valid")}
    segment = vm.export("segment")
    assert segment[("segment_utilization", (("direction", "down"), ("segment", "hub-1 DS")))] == [(T0 * 1000, 0.71)]
    assert vm.export("poll")[("poll_duration_s", (("device", "r1"),))] == [(T0 * 1000, 0.25)]

    path, headers = proxy.requests[0]
    assert "precision=s" in path and "bucket=noc" in path
    assert headers["Content-Encoding"] == "gzip"
    assert headers["Authorization"] == f"Token {TOKEN}"


def _stream(sink: InfluxSink, stop: threading.Event, written: list[int], period: float = 0.01) -> None:
    i = 0
    while not stop.is_set():
        sink.write(seq_samples(i))
        written.append(i)
        i += 1
        time.sleep(period)


@pytest.mark.parametrize("via", ["direct", "proxy"])
def test_outage_spools_then_replays_everything_in_order_once(via: str, vm: VictoriaMetrics, tmp_path: Path,
                                                            request: pytest.FixtureRequest) -> None:
    """Stream samples; VictoriaMetrics stops (SIGTERM) for 3 s and comes back on the same port and data.

    ``direct``: the sink sees connections refused. ``proxy``: a recording proxy in front resets connections
    while the server is away, and records the order in which the server accepted the lines.
    """
    proxy: RecordingProxy | None = request.getfixturevalue("proxy") if via == "proxy" else None
    sink = make_sink(proxy.url if proxy else vm.url, tmp_path / "spool")
    stop, written = threading.Event(), []
    writer = threading.Thread(target=_stream, args=(sink, stop, written))
    writer.start()
    time.sleep(1.0)
    vm.stop()
    time.sleep(3.0)
    during = sink.stats()
    vm.start()  # same port, same data directory
    time.sleep(1.5)
    stop.set()
    writer.join()
    assert sink.drain(timeout=30)
    stats = sink.stats()
    sink.close()

    assert during["spool_points"] > 0 and during["up"] == 0
    assert stats["points_spooled_total"] > 0 and stats["points_replayed_total"] > 0
    assert stats["points_written_total"] == stats["points_accepted_total"] == 3 * len(written)
    assert stats["spool_points"] == 0 and stats["points_dropped_total"] == 0

    expected = [T0 + i for i in written]
    series = vm.export("outage")
    assert set(series) == {("outage_seq", (("device", d),)) for d in "abc"}
    for values in series.values():
        assert seconds(values) == expected  # every second present, none twice
        assert [int(v) for _, v in values] == written

    if proxy is None:
        return
    delivered: dict[str, list[int]] = {}
    for line in proxy.lines:
        tags, _fields, ts = line.split(" ")
        delivered.setdefault(tags, []).append(int(ts))
    for device in "abc":  # the order in which the server accepted them is the order they were written
        assert delivered[f"outage,device={device}"] == expected


def test_pending_spool_survives_close_and_a_new_sink_replays_it(vm_factory: VmFactory, tmp_path: Path) -> None:
    vm = vm_factory()  # not running: connections are refused
    spool_dir = tmp_path / "spool"
    first = make_sink(vm.url, spool_dir)
    for i in range(100):
        first.write(seq_samples(i, ("x",)))
    first.flush(timeout=20)
    assert first.stats()["spool_points"] == 100
    first.close()
    assert any(spool_dir.glob("*.seg"))

    vm.start()
    second = make_sink(vm.url, spool_dir)
    second.write(seq_samples(100, ("x",)))  # behind the 100: spooled while they replay, else written live after them
    assert second.drain(timeout=20)
    stats = second.stats()
    second.close()
    # Whether the new sink had replayed the 100 before the 101st arrived is the scheduler's choice, not the sink's.
    assert stats["points_replayed_total"] in (100, 101) and stats["spool_points"] == 0, stats
    assert seconds(vm.export("outage")[("outage_seq", (("device", "x"),))]) == [T0 + i for i in range(101)]


def test_spool_bound_drops_the_oldest_and_counts(vm_factory: VmFactory, tmp_path: Path) -> None:
    vm = vm_factory()
    sink = make_sink(vm.url, tmp_path / "spool", spool_max_bytes=16384, spool_segment_bytes=4096)
    for i in range(2000):
        sink.write(seq_samples(i, ("x",)))
    sink.flush(timeout=30)
    stats = sink.stats()
    assert stats["points_dropped_total"] > 0
    assert stats["spool_bytes"] <= 16384
    assert stats["spool_points"] + stats["points_dropped_total"] == 2000
    vm.start()
    assert sink.drain(timeout=30)
    sink.close()
    got = seconds(vm.export("outage")[("outage_seq", (("device", "x"),))])
    assert len(got) == 2000 - stats["points_dropped_total"]
    assert got == [T0 + i for i in range(2000 - len(got), 2000)]  # the newest survived, contiguous


class _Stub(BaseHTTPRequestHandler):
    """Answers every write with the status in ``server.status``; remembers the Authorization header."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read the recorded requests instead of the log."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.auth.append(self.headers.get("Authorization"))  # type: ignore[attr-defined]
        body = b'{"code":"invalid","message":"nope"}'
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def stub() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    server.status = 503  # type: ignore[attr-defined]
    server.auth = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_token_stays_out_of_repr_logs_stats_and_spool(stub: ThreadingHTTPServer, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://user:{TOKEN}@127.0.0.1:{stub.server_address[1]}"
    sink = make_sink(url, tmp_path / "spool")
    caplog.set_level(logging.DEBUG)  # urllib3 and influxdb_client included
    assert TOKEN not in repr(sink) and "***" in repr(sink)
    sink.write(seq_samples(0))
    sink.flush(timeout=20)  # 503 after the client's retries: spooled
    stub.status = 400  # type: ignore[attr-defined]
    assert sink.drain(timeout=20)  # replay answered 400: rejected, dropped
    sink.write(seq_samples(1))
    sink.flush(timeout=20)
    stats = sink.stats()
    sink.close()
    assert stub.auth and all(a == f"Token {TOKEN}" for a in stub.auth)  # the token was really used
    assert stats["points_spooled_total"] == 3 and stats["points_rejected_total"] == 6
    assert stats["write_failures_total"] >= 1
    assert "503" in caplog.text and "400" in caplog.text
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(stats)
    for path in (tmp_path / "spool").iterdir():
        assert TOKEN.encode() not in path.read_bytes()


def test_unreachable_port_means_refused_not_hang(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as s:  # nothing listens there
        assert s.connect_ex(("127.0.0.1", port)) != 0
    sink = make_sink(f"http://127.0.0.1:{port}", tmp_path / "spool")
    started = time.monotonic()
    sink.write(seq_samples(0))
    sink.close()  # one attempt, then the queue goes to the spool
    assert time.monotonic() - started < 5
    assert sink.stats()["spool_points"] == 3

