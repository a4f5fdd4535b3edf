"""The shared UDP endpoint on its own: request ids, duplicates, wrong sources, socket errors, closing. Real sockets
on loopback throughout; the client-level behaviour is in the other files of this directory."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from collectors.snmp.auth import Target, V2c
from collectors.snmp.client import STAT_KEYS, SnmpClient, SnmpTimeout
from collectors.snmp.transport import Endpoint, EndpointClosed, RequestTimeout
from tests.support.hostile import ScriptedAgent

from .conftest import run, with_client


def new_stats() -> dict[str, int]:
    return dict.fromkeys(STAT_KEYS, 0)


def accept(data: bytes) -> bytes:
    """A decoder taking any datagram as the answer."""
    return data


def test_a_socket_that_cannot_be_bound_is_closed() -> None:
    with pytest.raises(TypeError):  # AF_UNIX cannot bind an (address, port) pair
        Endpoint.open(socket.AF_UNIX, new_stats())


def test_request_ids_in_use_are_skipped() -> None:
    async def scenario() -> list[int]:
        endpoint = Endpoint.open(socket.AF_INET, new_stats())
        try:
            endpoint._next_id = 2**31 - 2
            for rid in (2**31 - 2, 2**31 - 1, 1):
                endpoint.pending[rid] = (asyncio.get_running_loop().create_future(), ("127.0.0.1", 9), accept)
            return [endpoint.new_id(), endpoint.new_id()]
        finally:
            endpoint.close()

    assert run(scenario()) == [2, 3]


async def _pending_request(endpoint: Endpoint, rid: int, **kw: Any) -> asyncio.Task[Any]:
    """A request to a loopback port where nothing listens, registered once this returns."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        addr = s.getsockname()
    task = asyncio.create_task(endpoint.request(addr, rid, lambda attempt: b"ping", accept, **kw))
    await asyncio.sleep(0)
    return task


def test_duplicates_late_answers_and_wrong_sources_are_counted_not_taken() -> None:
    async def scenario() -> tuple[bytes, dict[str, int]]:
        stats = new_stats()
        endpoint = Endpoint.open(socket.AF_INET, stats)
        try:
            task = await _pending_request(endpoint, 5, timeout=5, retries=0)
            expected = endpoint.pending[5][1]
            endpoint.received(b"\x30\x06\x02\x01\x01\x04\x01x", expected)  # no PDU, so no request id: malformed
            rid5 = b"\x30\x0b\x02\x01\x01\x04\x00\xa2\x04\x02\x01\x05\x00"  # a v2c answer to request id 5
            endpoint.received(rid5, ("127.0.0.1", expected[1] + 1))  # the right id from the wrong source
            assert not task.done()
            endpoint.rejected[5] = "an earlier answer was malformed"
            endpoint.received(rid5, expected)
            endpoint.received(rid5, expected)  # a duplicate before the waiting task ran: unmatched
            result = await task
            endpoint.received(rid5, expected)  # after the request ended: unmatched too
            assert not endpoint.rejected and not endpoint.pending
            return result, stats
        finally:
            endpoint.close()

    result, stats = run(scenario())
    assert result.endswith(b"\x02\x01\x05\x00")
    assert (stats["wrong_source"], stats["unmatched"], stats["malformed"]) == (1, 2, 1)


def test_socket_errors_on_receive_are_counted() -> None:
    class Refusing(socket.socket):
        """A real UDP socket whose next receive reports an ICMP error, as a connected one would."""

        def recvfrom(self, size: int, flags: int = 0) -> tuple[bytes, Any]:
            raise ConnectionRefusedError

    async def scenario() -> dict[str, int]:
        stats = new_stats()
        sock = Refusing(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        endpoint = Endpoint(sock, stats)
        endpoint._readable()
        endpoint.close()
        endpoint.close()  # twice is fine
        return stats

    assert run(scenario())["socket_errors"] == 1


def test_send_errors_are_counted_and_end_in_a_timeout() -> None:
    """255.255.255.255 without SO_BROADCAST: sendto fails, as when a buffer is full or a network unreachable."""
    target = Target("255.255.255.255", 161, V2c("c"), timeout=0.05, retries=1)

    async def get(c: SnmpClient) -> dict[str, int]:
        with pytest.raises(SnmpTimeout):
            await c.get(target, ["1.3.6.1.2.1.1.3.0"])
        return dict(c.stats)

    stats = run(with_client(get))
    assert (stats["socket_errors"], stats["timeouts"]) == (2, 1)


def test_closing_fails_waiting_requests_and_refuses_new_ones() -> None:
    async def scenario() -> None:
        endpoint = Endpoint.open(socket.AF_INET, new_stats())
        task = await _pending_request(endpoint, 7, timeout=5, retries=0)
        endpoint.close()
        with pytest.raises(EndpointClosed):
            await task
        with pytest.raises(EndpointClosed):
            await endpoint.request(("127.0.0.1", 9), 8, lambda attempt: b"", accept, 1, 0)

    run(scenario())


def test_a_timeout_says_why_the_answers_were_dropped() -> None:
    """Answers that the request's decoder refuses (here: all of them) make the timeout carry the reason."""

    def refuse(data: bytes) -> None:
        return None

    with ScriptedAgent(lambda data: [data]) as echo:

        async def scenario() -> RequestTimeout:
            endpoint = Endpoint.open(socket.AF_INET, new_stats())
            try:
                ping = b"\x30\x0b\x02\x01\x01\x04\x00\xa0\x04\x02\x01\x09\x00"  # request id 9
                with pytest.raises(RequestTimeout) as err:
                    await endpoint.request((echo.host, echo.port), 9, lambda attempt: ping, refuse, 0.2, 0)
                return err.value
            finally:
                endpoint.close()

        assert run(scenario()).rejected == "not an answer to this request"
