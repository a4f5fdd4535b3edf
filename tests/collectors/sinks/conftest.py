"""A real VictoriaMetrics (InfluxDB write protocol) on loopback, and a recording HTTP proxy in front of it."""

from __future__ import annotations

import gzip
import http.client
import json
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

VM_BINARY = "victoria-metrics"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class VictoriaMetrics:
    """One ``victoria-metrics`` process we start and stop by pid, on a fixed port and data directory."""

    def __init__(self, data_dir: Path, port: int, log_path: Path) -> None:
        self.data_dir = data_dir
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.proc is None
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                VM_BINARY,
                f"-storageDataPath={self.data_dir}",
                f"-httpListenAddr=127.0.0.1:{self.port}",
                "-search.disableCache",
                "-search.latencyOffset=0s",
                "-loggerLevel=WARN",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"victoria-metrics exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("victoria-metrics did not become healthy")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the process we started (SIGTERM: it flushes what it acknowledged, then exits)."""
        if self.proc is None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def export(self, measurement: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[int, float]]]:
        """Every raw sample of ``<measurement>_*`` series: (name, labels) -> [(ms, value)] in time order."""
        urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10).close()
        query = urllib.parse.urlencode({"match[]": f'{{__name__=~"{measurement}_.*"}}'})
        with urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=30) as resp:
            body = resp.read().decode()
        out: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[int, float]]] = {}
        for line in body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            labels = dict(item["metric"])
            name = labels.pop("__name__")
            key = (name, tuple(sorted(labels.items())))
            out.setdefault(key, []).extend(zip(item["timestamps"], item["values"], strict=True))
        for values in out.values():
            values.sort()
        return out


VmFactory = Callable[..., VictoriaMetrics]


@pytest.fixture
def vm_factory(tmp_path: Path) -> Iterator[VmFactory]:
    """Make VictoriaMetrics instances (not started); every one started is stopped at the end."""
    if shutil.which(VM_BINARY) is None:
        pytest.fail("victoria-metrics is not installed: apt-get update && apt-get install -y victoria-metrics")
    made: list[VictoriaMetrics] = []

    def make(port: int | None = None) -> VictoriaMetrics:
        n = len(made)
        vm = VictoriaMetrics(tmp_path / f"vm{n}", port or free_port(), tmp_path / f"vm{n}.log")
        made.append(vm)
        return vm

    yield make
    for vm in made:
        vm.stop()


@pytest.fixture
def vm(vm_factory: VmFactory) -> VictoriaMetrics:
    """A running VictoriaMetrics on a free loopback port with a temporary data directory."""
    instance = vm_factory()
    instance.start()
    return instance


class RecordingProxy:
    """HTTP proxy to an upstream port that records, in order, the line-protocol lines the upstream accepted.

    When the upstream cannot be reached it resets the client's connection without an answer, which is what
    a client sees from a server that died mid-request.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.lines: list[str] = []
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the tests read the recorded requests instead of the log."""

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=10)
                    conn.request("POST", self.path, body, headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    conn.close()
                except OSError:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                if 200 <= resp.status < 300:
                    text = gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body
                    with proxy._lock:
                        proxy.requests.append((self.path, headers))
                        proxy.lines.extend(text.decode().split("\n"))
                self.send_response(resp.status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(vm: VictoriaMetrics) -> Iterator[RecordingProxy]:
    """A recording proxy in front of the running VictoriaMetrics."""
    p = RecordingProxy(vm.port)
    yield p
    p.close()
