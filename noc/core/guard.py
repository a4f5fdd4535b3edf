"""The API's outer guard (an ASGI middleware): request limits, NUL refusal and the last word on errors.

- A body above the limit is refused with 413: by its ``Content-Length`` before anything is read (so before
  authentication), or as soon as a chunked body grows past it.
- A NUL character in any query parameter or JSON string is a 422 naming the parameter or field (PostgreSQL
  cannot store NUL, and it has no business in any of noc's fields).
- A client whose requests keep failing authentication is answered 429 for a while (guessing tokens).
- At most ``max_in_flight`` requests are inside the app at once: a request holds its database sessions until
  its answer is sent, so without a bound more requests than the pool has connections would wait on each other.
  An event stream (a live session's readings) leaves the bound once its answer starts: it lasts minutes and its
  database work runs in short sessions of its own.
- An unexpected exception becomes a 500 in the error format; the log gets its type and where it happened,
  never its message (messages of validation and database errors carry the values that were sent), and the
  kept-alive connection stays usable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from noc.core.http import error_body

log = logging.getLogger("noc.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

NUL = "\x00"
HEALTH_PATH = "/api/v1/health"
Answer = tuple[int, dict[str, Any], dict[str, str]]
"""A refusal: status, body, extra headers."""


class BodyTooLarge(Exception):
    """The request body grew past the limit while it was read."""


def nul_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (or key) in a parsed JSON ``value`` that holds a NUL, if any."""
    if isinstance(value, str):
        return path or "body" if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return sub
            found = nul_path(item, sub)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}.{index}" if path else str(index))
            if found:
                return found
    return None


def safe_trace(exc: BaseException) -> str:
    """Where ``exc`` was raised (file, line and function of each frame), without any message or source text."""
    frames = traceback.extract_tb(exc.__traceback__)
    return "".join(f"\n  {f.filename}:{f.lineno} in {f.name}" for f in frames)


class AuthFailures:
    """Counts failed authentications per client address in a sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> list[float]:
        times = [t for t in self._seen.get(client, []) if now - t < 60]
        if times:
            self._seen[client] = times
        else:
            self._seen.pop(client, None)
        return times

    def blocked_for(self, client: str) -> int:
        """Seconds until ``client`` may try again (0: not blocked)."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.per_minute:
                return 0
            return max(1, int(60 - (now - times[0])) + 1)

    def failed(self, client: str) -> None:
        """Count one failed authentication of ``client``."""
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 100_000:  # bounded memory under a spray of addresses
                self._seen.clear()
            self._seen.setdefault(client, []).append(now)


def is_event_stream(start: Message) -> bool:
    """Whether a response start message begins a ``text/event-stream``."""
    return any(name.lower() == b"content-type" and value.startswith(b"text/event-stream")
               for name, value in start.get("headers") or [])


class Guard:
    """The middleware; see the module's description."""

    def __init__(self, app: App, max_body_bytes: int, auth_failures_per_min: int, max_in_flight: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.failures = AuthFailures(auth_failures_per_min)
        self.max_in_flight = max_in_flight
        self._in_flight: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit at most ``max_in_flight`` requests into the app at once (the others wait here, holding no
        thread and no database connection), so the pool sized to it is never exhausted; ``/health`` always
        passes, and an event stream gives its place back once its answer has started."""
        if scope["type"] != "http" or scope.get("path") == HEALTH_PATH:
            await self.guarded(scope, receive, send)
            return
        if self._in_flight is None:
            self._in_flight = asyncio.Semaphore(self.max_in_flight)
        slot = self._in_flight
        await slot.acquire()
        held = True

        async def release_for_streams(message: Message) -> None:
            nonlocal held
            if held and message["type"] == "http.response.start" and is_event_stream(message):
                held = False  # a stream (live readings) lasts minutes and holds no pooled session: let others in
                slot.release()
            await send(message)

        try:
            await self.guarded(scope, receive, release_for_streams)
        finally:
            if held:
                slot.release()

    async def guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One request through the checks."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("-", 0))[0]
        started = False
        status = 0

        async def guarded_send(message: Message) -> None:
            nonlocal started, status
            if message["type"] == "http.response.start":
                started, status = True, int(message["status"])
            await send(message)

        try:
            refusal = self._refusal(scope, client)
            if refusal is not None:
                await respond(send, *refusal)
                return
            checked = await self._checked_body(scope, receive)
            if isinstance(checked, tuple):
                await respond(send, *checked)
                return
            await self.app(scope, checked, guarded_send)
        except BodyTooLarge:
            if not started:
                await respond(send, *self._too_large())
        except Exception as exc:
            log.error("unhandled error: %s in %s %s%s", exc.__class__.__name__, scope.get("method"),
                      scope.get("path"), safe_trace(exc))
            if not started:
                await respond(send, 500, error_body("internal", "internal error; the server log has the details"), {})
        if status == 401:
            self.failures.failed(client)

    def _too_large(self) -> Answer:
        return 413, error_body("too_large", f"the request body is larger than {self.max_body_bytes} bytes"), {}

    def _refusal(self, scope: Scope, client: str) -> Answer | None:
        wait = self.failures.blocked_for(client)
        if wait:
            message = f"too many failed authentications; retry in {wait} s"
            return 429, error_body("too_many_requests", message), {"Retry-After": str(wait)}
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and not length.isdigit():
            return 400, error_body("bad_request", "Content-Length is not a number"), {}
        if length is not None and int(length) > self.max_body_bytes:
            return self._too_large()
        for name, value in parse_qsl(scope.get("query_string", b"").decode(errors="replace"), keep_blank_values=True):
            if NUL in value or NUL in name:
                return 422, error_body("invalid", "must not contain a NUL character", name.replace(NUL, "")), {}
        return None

    async def _checked_body(self, scope: Scope, receive: Receive) -> Receive | Answer:
        """Read the whole body (bounded), refuse NUL in JSON strings, and hand the app a replay of it."""
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return receive
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return receive  # disconnected: let the app see it
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return self._too_large()
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"\\u0000" in body:
            try:
                field = nul_path(json.loads(body))
            except ValueError:
                field = None
            if field is not None:
                return 422, error_body("invalid", "must not contain a NUL character", field), {}
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


async def respond(send: Send, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    """Send a JSON answer in the error format."""
    content = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})
