"""Is a host there, and how far away: an ICMP echo burst (RTT min/avg/max, loss), a TCP SYN to a management port
when ICMP gets no answer (filtered), and, without raw-socket privilege, an asyncio TCP connect.

Packets are built and parsed with scapy and sent over the process's own raw sockets from asyncio, so many probes
run at once without threads. A refused TCP connection (RST) counts as an answer: the host is there. The result
names the method that gave it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import socket
import time
from dataclasses import dataclass
from typing import Any

from scapy.layers.inet import ICMP, IP, TCP

ICMP_ECHO_REPLY = 0
TCP_SYN_ACK = 0x12
TCP_RST = 0x04


@dataclass(frozen=True)
class Reach:
    """What a probe found: the method used, echoes sent and answered, and the round-trip times (ms)."""

    method: str
    """``icmp``, ``tcp_syn`` or ``tcp_connect``."""
    sent: int
    received: int
    rtts_ms: tuple[float, ...] = ()

    @property
    def reachable(self) -> bool:
        """True when anything answered."""
        return self.received > 0

    @property
    def loss(self) -> float:
        """Share of probes without an answer, 0..1."""
        return 1.0 - self.received / self.sent if self.sent else 1.0

    def as_dict(self) -> dict[str, Any]:
        """For a reading: method, reachable, sent, received, loss and RTT min/avg/max in ms (None without answer)."""
        rtt = None
        if self.rtts_ms:
            rtt = {"min": round(min(self.rtts_ms), 3), "avg": round(sum(self.rtts_ms) / len(self.rtts_ms), 3),
                   "max": round(max(self.rtts_ms), 3)}
        return {"method": self.method, "reachable": self.reachable, "sent": self.sent, "received": self.received,
                "loss": round(self.loss, 3), "rtt_ms": rtt}


def _raw_socket(proto: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, proto)
    sock.setblocking(False)
    return sock


async def _receive_until(sock: socket.socket, deadline: float, match: Any) -> float | None:
    """Read packets until ``match(packet_bytes)`` is true (returns the arrival time) or ``deadline`` passes."""
    loop = asyncio.get_running_loop()
    while (left := deadline - time.monotonic()) > 0:
        try:
            data = await asyncio.wait_for(loop.sock_recv(sock, 65535), left)
        except TimeoutError:
            return None
        if match(data):
            return time.monotonic()
    return None


class _Pinger:
    """One raw ICMP socket per event loop, shared by every echo probe on it: replies are matched on their bytes
    (identifier and sequence, then our token in the payload) and handed to the probe waiting for them; only those
    are parsed with scapy. (A socket per probe would see every probe's packets and drop some under load.)"""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.sock = _raw_socket(socket.IPPROTO_ICMP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.waiting: dict[bytes, tuple[bytes, asyncio.Future[float]]] = {}
        self.in_use: set[int] = set()
        self.next_ident = int.from_bytes(os.urandom(2), "big")
        loop.add_reader(self.sock.fileno(), self._read)

    def ident(self) -> int:
        """An echo identifier no running probe of this socket uses (random ones would collide now and then)."""
        while self.next_ident in self.in_use:
            self.next_ident = (self.next_ident + 1) & 0xFFFF
        ident, self.next_ident = self.next_ident, (self.next_ident + 1) & 0xFFFF
        self.in_use.add(ident)
        return ident

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            head = (data[0] & 0x0F) * 4 if data else 0
            if data[head:head + 1] != b"\x00":  # echo replies only
                continue
            found = self.waiting.get(data[head + 4:head + 8])
            if found is None or data[head + 8:head + 16] != found[0]:
                continue
            icmp = IP(data)[ICMP]
            key = icmp.id.to_bytes(2, "big") + icmp.seq.to_bytes(2, "big")
            self.waiting.pop(key, None)
            if not found[1].done():
                found[1].set_result(time.monotonic())

    async def echo(self, host: str, ident: int, seq: int, token: bytes, timeout: float) -> float | None:
        """Send one echo request; the RTT in ms, or None after ``timeout`` seconds."""
        key = ident.to_bytes(2, "big") + seq.to_bytes(2, "big")
        future: asyncio.Future[float] = self.loop.create_future()
        self.waiting[key] = (token, future)
        started = time.monotonic()
        try:
            await self.loop.sock_sendto(self.sock, bytes(ICMP(type=8, id=ident, seq=seq) / token), (host, 0))
            return (await asyncio.wait_for(future, timeout) - started) * 1000
        except TimeoutError:
            return None
        finally:
            self.waiting.pop(key, None)


_PINGERS: dict[asyncio.AbstractEventLoop, _Pinger] = {}


def _pinger() -> _Pinger:
    loop = asyncio.get_running_loop()
    for old in [other for other in _PINGERS if other.is_closed()]:
        _PINGERS.pop(old).sock.close()
    if loop not in _PINGERS:
        _PINGERS[loop] = _Pinger(loop)
    return _PINGERS[loop]


async def icmp_echo(host: str, *, count: int = 3, timeout: float = 1.0, interval: float = 0.02) -> Reach:
    """``count`` echo requests ``interval`` apart, each awaited for up to ``timeout`` seconds.

    Raises PermissionError without raw-socket privilege (CAP_NET_RAW).
    """
    pinger = _pinger()
    ident, token = pinger.ident(), os.urandom(8)

    async def one(seq: int) -> float | None:
        await asyncio.sleep(seq * interval)
        return await pinger.echo(host, ident, seq, token, timeout)

    try:
        answers = await asyncio.gather(*(one(seq) for seq in range(count)))
    finally:
        pinger.in_use.discard(ident)
    rtts = tuple(rtt for rtt in answers if rtt is not None)
    return Reach("icmp", count, len(rtts), rtts)


def _source_for(host: str) -> str:
    """The local address the kernel would send to ``host`` from."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, 9))
        address: str = s.getsockname()[0]
        return address


async def tcp_syn(host: str, port: int, *, timeout: float = 1.0) -> Reach:
    """One SYN to ``port``; a SYN-ACK or a RST is an answer. Raises PermissionError without raw-socket privilege."""
    loop = asyncio.get_running_loop()
    sport = 40000 + int.from_bytes(os.urandom(2), "big") % 20000
    source = _source_for(host)
    segment = bytes(IP(src=source, dst=host) / TCP(sport=sport, dport=port, flags="S",
                                                   seq=int.from_bytes(os.urandom(4), "big")))[20:]

    ports = port.to_bytes(2, "big") + sport.to_bytes(2, "big")

    def answered(data: bytes) -> bool:
        head = (data[0] & 0x0F) * 4 if data else 0
        if data[head:head + 4] != ports:
            return False
        packet = IP(data)
        if TCP not in packet or packet.src != host:
            return False
        tcp = packet[TCP]
        return bool(tcp.sport == port and tcp.dport == sport and int(tcp.flags) & (TCP_SYN_ACK | TCP_RST))

    with _raw_socket(socket.IPPROTO_TCP) as sock:
        started = time.monotonic()
        await loop.sock_sendto(sock, segment, (host, 0))
        at = await _receive_until(sock, started + timeout, answered)
    return Reach("tcp_syn", 1, int(at is not None), () if at is None else ((at - started) * 1000,))


async def tcp_connect(host: str, port: int, *, timeout: float = 1.0) -> Reach:
    """An ordinary TCP connect (no privilege needed); refused counts as an answer."""
    started = time.monotonic()
    try:
        with contextlib.suppress(ConnectionRefusedError):  # a refusal is an answer too: the host is up
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            writer.close()
    except (TimeoutError, OSError):
        return Reach("tcp_connect", 1, 0)
    return Reach("tcp_connect", 1, 1, ((time.monotonic() - started) * 1000,))


async def reach(host: str, port: int, *, timeout: float = 1.0, count: int = 3) -> Reach:
    """ICMP echo; when no echo comes back, a TCP SYN to ``port``; without raw-socket privilege (or for a
    non-IPv4 address), a TCP connect to ``port``. Takes at most about ``timeout`` per method tried."""
    try:
        ipv4 = ipaddress.ip_address(host).version == 4
    except ValueError:
        ipv4 = False
    if ipv4:
        with contextlib.suppress(PermissionError):  # no raw-socket privilege: a TCP connect below
            echoed = await icmp_echo(host, count=count, timeout=timeout)
            return echoed if echoed.reachable else await tcp_syn(host, port, timeout=timeout)
    return await tcp_connect(host, port, timeout=timeout)
