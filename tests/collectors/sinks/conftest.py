"""A real VictoriaMetrics (InfluxDB write protocol) on loopback, and a recording HTTP proxy in front of it."""

from __future__ import annotations

import gzip
import http.client
import shutil
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.victoria import VM_BINARY, VictoriaMetrics, free_port

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
