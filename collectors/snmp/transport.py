"""One shared UDP socket per address family, matching responses to requests by message id.

Thousands of requests can be in flight on one socket: each pending request is keyed by its
request-id (v1/v2c) or msgID (v3), and a response is accepted only from the address the request went
to and only if the request's own decoder accepts it (community check, v3 authentication).
Retransmissions keep the id, so a late answer to an earlier attempt still completes the request.

The socket is driven directly with ``loop.add_reader`` (draining every queued datagram per wake-up)
rather than through an asyncio transport: fewer layers on the hot path, and the endpoint owns its
socket outright, so it can be released even after its event loop has been closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import Callable
from typing import Any

from collectors.snmp.ber import BerError, peek_message_id

Decoder = Callable[[bytes], Any]
"""Turns a datagram into a result, or raises BerError (or returns None) to ignore it."""

_TIMEOUT = object()
_RCVBUF = 8 * 1024 * 1024
_SNDBUF = 2 * 1024 * 1024
_MAX_DATAGRAM = 65535
_MAX_ID = 2**31 - 1


def _expire(fut: asyncio.Future[Any]) -> None:
    if not fut.done():
        fut.set_result(_TIMEOUT)


class RequestTimeout(Exception):
    """Raised by :meth:`Endpoint.request` when every attempt timed out; ``rejected`` says why the last answer
    from the target was dropped ("" when none came)."""

    def __init__(self, rejected: str = "") -> None:
        super().__init__(rejected)
        self.rejected = rejected


class EndpointClosed(Exception):
    """Raised by :meth:`Endpoint.request` when the endpoint was closed while waiting."""


class Endpoint:
    """A non-blocking UDP socket on an event loop, with request-id demultiplexing and retransmission."""

    def __init__(self, sock: socket.socket, stats: dict[str, int]) -> None:
        self.sock = sock
        self.stats = stats
        self.pending: dict[int, tuple[asyncio.Future[Any], tuple[str, int], Decoder]] = {}
        self.rejected: dict[int, str] = {}
        """Why the last answer to a pending request was dropped, by request id."""
        self.loop = asyncio.get_running_loop()
        self._next_id = random.randrange(1, _MAX_ID)
        self._closed = False
        self.loop.add_reader(sock.fileno(), self._readable)

    @classmethod
    def open(cls, family: int, stats: dict[str, int]) -> Endpoint:
        """Bind a datagram socket of ``family`` to an ephemeral port with large buffers."""
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            for opt, size in ((socket.SO_RCVBUF, _RCVBUF), (socket.SO_SNDBUF, _SNDBUF)):
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, opt, size)
            sock.bind(("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0))
            sock.setblocking(False)
            return cls(sock, stats)
        except BaseException:
            sock.close()
            raise

    def new_id(self) -> int:
        """A request id in 1..2**31-1 that is not in use on this endpoint."""
        rid = self._next_id
        while rid in self.pending:
            rid = rid % _MAX_ID + 1
        self._next_id = rid % _MAX_ID + 1
        return rid

    def _readable(self) -> None:
        recvfrom = self.sock.recvfrom
        while True:
            try:
                data, addr = recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. ICMP port unreachable reported on the socket: the request times out
                self.stats["socket_errors"] += 1
                return
            self.received(data, addr)

    def received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        """Complete the pending request this datagram answers, if any."""
        try:
            rid = peek_message_id(data)
        except (BerError, IndexError, ValueError):
            self.stats["malformed"] += 1
            return
        entry = self.pending.get(rid)
        if entry is None:
            self.stats["unmatched"] += 1
            return
        fut, expected, decoder = entry
        if addr[0] != expected[0] or addr[1] != expected[1]:
            self.stats["wrong_source"] += 1
            return
        if fut.done():
            self.stats["unmatched"] += 1
            return
        try:
            result = decoder(data)
        except (BerError, IndexError, ValueError) as exc:
            result, reason = None, str(exc) or type(exc).__name__
        else:
            reason = "not an answer to this request"
        if result is None:
            self.stats["malformed"] += 1
            self.rejected[rid] = reason
            return
        fut.set_result(result)

    def _send(self, packet: bytes, addr: tuple[str, int]) -> None:
        try:
            self.sock.sendto(packet, addr)
        except OSError:  # buffer full, network unreachable...: like a lost datagram, retransmission covers it
            self.stats["socket_errors"] += 1

    async def request(
        self,
        addr: tuple[str, int],
        request_id: int,
        packet: Callable[[int], bytes],
        decoder: Decoder,
        timeout: float,
        retries: int,
    ) -> Any:
        """Send ``packet(attempt)`` up to ``retries + 1`` times; return the decoder's result.

        Raises :class:`RequestTimeout` when no acceptable answer arrived, :class:`EndpointClosed` when
        the endpoint is closed meanwhile.
        """
        if self._closed:
            raise EndpointClosed
        loop = self.loop
        pending = self.pending
        attempt = 0
        try:
            while True:
                fut = loop.create_future()
                pending[request_id] = (fut, addr, decoder)
                self._send(packet(attempt), addr)
                handle = loop.call_later(timeout, _expire, fut)
                try:
                    result = await fut
                finally:
                    handle.cancel()
                if result is not _TIMEOUT:
                    return result
                if attempt >= retries:
                    raise RequestTimeout(self.rejected.get(request_id, ""))
                attempt += 1
                self.stats["retries"] += 1
        finally:
            pending.pop(request_id, None)
            if self.rejected:
                self.rejected.pop(request_id, None)

    def close(self) -> None:
        """Stop reading and close the socket; pending requests fail with :class:`EndpointClosed`."""
        if self._closed:
            return
        self._closed = True
        for fut, _, _ in list(self.pending.values()):
            if not fut.done():
                fut.set_exception(EndpointClosed())
        self.pending.clear()
        if not self.loop.is_closed():
            self.loop.remove_reader(self.sock.fileno())
        self.sock.close()
