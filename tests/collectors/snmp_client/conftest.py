"""Real net-snmp agents on loopback for the SNMP client tests.

Each agent runs from its own directory with a persistent-state dir, like a real device: restarting it
keeps the engine ID and increments snmpEngineBoots. Credentials are test-only values.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from collectors.snmp.client import SnmpClient
from tests.support.snmpd import (
    Agent,
)

T = TypeVar("T")

def run(coro: Awaitable[T]) -> T:
    """Run a coroutine in a fresh event loop (each test gets its own, as a poller process would)."""

    async def main() -> T:
        return await coro

    return asyncio.run(main())


async def with_client(fn: Callable[[SnmpClient], Awaitable[T]], **limits: Any) -> T:
    """Call ``fn`` with a fresh client and close the client afterwards."""
    client = SnmpClient(**limits)
    try:
        return await fn(client)
    finally:
        await client.close()


@dataclass
class TooBigProxy:
    """A UDP relay in front of a real snmpd that answers tooBig (built with pysnmp's own message layer,
    independent of noc's codec) to any GETBULK asking for more than ``limit`` repetitions. snmpd itself
    never answers tooBig, but many CPEs do."""

    upstream: Agent
    limit: int
    port: int = 0
    seen_repetitions: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from pyasn1.codec.ber import decoder, encoder
        from pysnmp.proto import api

        v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        up.settimeout(2)
        while not self._stop.is_set():
            try:
                data, client = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
            pdu = v2c.apiMessage.get_pdu(msg)
            if pdu.isSameTypeWith(v2c.GetBulkRequestPDU()):
                reps = int(v2c.apiBulkPDU.get_max_repetitions(pdu))
                self.seen_repetitions.append(reps)
                if reps > self.limit:
                    rsp = v2c.apiMessage.get_response(msg)
                    rsp_pdu = v2c.apiMessage.get_pdu(rsp)
                    v2c.apiPDU.set_error_status(rsp_pdu, 1)
                    v2c.apiPDU.set_error_index(rsp_pdu, 0)
                    self._sock.sendto(encoder.encode(rsp), client)
                    continue
            up.sendto(data, (self.upstream.host, self.upstream.port))
            with contextlib.suppress(TimeoutError):
                self._sock.sendto(up.recv(65535), client)
        up.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture
def toobig_proxy(snmpd: Agent) -> Iterator[TooBigProxy]:
    proxy = TooBigProxy(snmpd, limit=6)
    yield proxy
    proxy.close()
