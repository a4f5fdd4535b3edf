"""The API's request bound and event streams: a live session's stream, which lasts minutes, must not hold one of the
bounded places, or 40 agents watching would stop every other request (seen at 50 live sessions: 10 streams got
no reading for 28 s)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from noc.core.guard import Guard
from tests.conftest import free_port


def bounded_app() -> Guard:
    app = FastAPI()

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            while True:
                yield b"event: reading\ndata: {}\n\n"
                await asyncio.sleep(0.2)

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.get("/plain")
    def plain() -> dict[str, bool]:
        return {"ok": True}

    return Guard(app, max_body_bytes=1_000, auth_failures_per_min=100, max_in_flight=1)


@pytest.fixture
def url() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(bounded_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start within 30 s"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_open_event_streams_do_not_hold_the_request_bound(url: str) -> None:
    with httpx.Client(base_url=url, timeout=30) as watcher, httpx.Client(base_url=url, timeout=30) as other:
        streams = [watcher.stream("GET", "/stream") for _ in range(2)]  # two streams with a bound of one
        opened = [s.__enter__() for s in streams]
        try:
            for response in opened:
                assert response.headers["content-type"].startswith("text/event-stream")
                assert next(response.iter_bytes()).startswith(b"event: reading")
            answer = other.get("/plain")
            assert answer.status_code == 200 and answer.json() == {"ok": True}
        finally:
            for s in streams:
                s.__exit__(None, None, None)
        assert other.get("/plain").status_code == 200  # and the place of a plain request is given back
