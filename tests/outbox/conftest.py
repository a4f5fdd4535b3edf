"""Fixtures of the outbox tests: the outbox table on both backends and a recording webhook receiver."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from noc.core.db import Base, Database
from noc.outbox.models import OutboxMessage
from noc.outbox.webhook import WebhookSender

SECRET = "whsec-Zq8p3LmN0vT5xY2k"


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class Hook:
    """A webhook receiver on 127.0.0.1: answers 503 to the next ``fail`` requests, then ``status``."""

    url: str = ""
    fail: int = 0
    status: int = 200
    response_headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, received: Received) -> int:
        """Record ``received`` and choose the status to answer it with."""
        with self.lock:
            self.requests.append(received)
            if self.fail > 0:
                self.fail -= 1
                return 503
            return self.status


@pytest.fixture
def outbox_db(db: Database) -> Database:
    """The migrated database plus the outbox table (not in the migrations yet)."""
    Base.metadata.create_all(db.engine, tables=[OutboxMessage.__table__])  # type: ignore[list-item]
    return db


@pytest.fixture
def hook() -> Iterator[Hook]:
    """A running receiver; its ``url`` ends in /hook."""
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            status = state.answer(Received(self.path, headers, body))
            time.sleep(state.delay_s)
            self.send_response(status)
            for name, value in ({"Location": "/elsewhere"} if 300 <= status < 400 else state.response_headers).items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read the recorded requests instead of the log."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def sender() -> Iterator[WebhookSender]:
    """A webhook sender signing with :data:`SECRET`."""
    webhook = WebhookSender(SECRET, timeout=5.0)
    yield webhook
    webhook.close()
