"""A closed-loop SNMP load generator to measure how many requests/s an agent (simulated or not) answers.

    python -m collectors.sim.loadgen 127.0.0.1:30161 --community noc-demo --duration 5 --window 32

Each socket keeps ``window`` pre-encoded GET requests in flight and sends a new one for every answer; lost
datagrams are replaced after ``timeout``. It prints answered requests/s. Run it on another core than the agent
(``taskset -c 1``) so the agent's single core is what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from collectors.sim.message import VERSION_2C, Message, encode_message
from collectors.sim.smi import VarBind
from collectors.snmp.ber import PduType, parse_oid
from collectors.snmp.values import NULL

DEFAULT_OIDS = ("1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.2.2.1.10.1", "1.3.6.1.2.1.2.2.1.16.1",
                "1.3.6.1.2.1.31.1.1.1.6.1", "1.3.6.1.2.1.31.1.1.1.10.1")
"""sysUpTime and four octet counters: the 5-object GET of REFERENCE.md §6's measurements."""


@dataclass
class LoadResult:
    answered: int
    sent: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


class _Client(asyncio.DatagramProtocol):
    def __init__(self, requests: list[bytes], window: int) -> None:
        self.requests = requests
        self.window = window
        self.transport: asyncio.DatagramTransport | None = None
        self.answered = 0
        self.sent = 0
        self.running = True
        self.last_answer = time.monotonic()

    def send(self) -> None:
        assert self.transport is not None
        self.transport.sendto(self.requests[self.sent % len(self.requests)])
        self.sent += 1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        for _ in range(self.window):
            self.send()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.answered += 1
        self.last_answer = time.monotonic()
        if self.running:
            self.send()

    def refill(self, timeout: float) -> None:
        """Replace requests (or answers) lost on the way."""
        if self.running and time.monotonic() - self.last_answer > timeout:
            self.last_answer = time.monotonic()
            for _ in range(self.window):
                self.send()


def requests(community: str, oids: tuple[str, ...], count: int = 256) -> list[bytes]:
    """Pre-encoded GET requests with distinct request ids."""
    varbinds: list[VarBind] = [(parse_oid(o), NULL) for o in oids]
    return [encode_message(Message(VERSION_2C, community.encode(), PduType.GET, 1000 + i, 0, 0, varbinds))
            for i in range(count)]


async def load(targets: list[tuple[str, int, str]], *, oids: tuple[str, ...] = DEFAULT_OIDS, duration: float = 5.0,
               window: int = 16, sockets_per_target: int = 1, timeout: float = 0.5) -> LoadResult:
    """Drive ``targets`` (host, port, community) for ``duration`` seconds; count answers."""
    loop = asyncio.get_running_loop()
    clients: list[_Client] = []
    transports = []
    start = time.monotonic()
    for host, port, community in targets:
        encoded = requests(community, oids)
        for _ in range(sockets_per_target):
            transport, client = await loop.create_datagram_endpoint(
                partial(_Client, encoded, window), remote_addr=(host, port))
            clients.append(client)
            transports.append(transport)
    end = start + duration
    while (now := time.monotonic()) < end:
        await asyncio.sleep(min(timeout / 2, end - now))
        for client in clients:
            client.refill(timeout)
    elapsed = time.monotonic() - start
    answered = sum(c.answered for c in clients)
    for client in clients:
        client.running = False
    for transport in transports:
        transport.close()
    return LoadResult(answered, sum(c.sent for c in clients), elapsed)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m collectors.sim.loadgen", description=__doc__.splitlines()[0])
    p.add_argument("targets", nargs="+", help="HOST:PORT of agents")
    p.add_argument("--community", default="public")
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--window", type=int, default=16, help="requests in flight per socket")
    p.add_argument("--sockets", type=int, default=1, help="sockets per target")
    p.add_argument("--oid", action="append", help="OIDs to GET (default: sysUpTime and four octet counters)")
    args = p.parse_args(argv)
    targets = []
    for target in args.targets:
        host, _, port = target.rpartition(":")
        targets.append((host, int(port), args.community))
    result = asyncio.run(load(targets, oids=tuple(args.oid or DEFAULT_OIDS), duration=args.duration,
                              window=args.window, sockets_per_target=args.sockets))
    print(f"{result.answered} answers in {result.seconds:.2f} s = {result.per_second:.0f} requests/s "
          f"({result.sent - result.answered} unanswered)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
