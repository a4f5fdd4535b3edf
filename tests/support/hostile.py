"""Raw UDP agents on loopback that answer whatever a test scripts: values out of range, over-long OIDs,
endless walks, spoofed or unauthenticated SNMPv3 answers. Answers are assembled from bytes here, so a
test can send what no well-behaved encoder would produce."""

from __future__ import annotations

import bisect
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from collectors.snmp.auth import Credentials, Target, V2c
from collectors.snmp.ber import (
    GET,
    RESPONSE,
    Pdu,
    decode_community_message,
    decode_oid_arcs,
    encode_integer,
    encode_length,
    encode_pdu,
    read_header,
    read_int,
    read_octets,
    tlv,
)

Arcs = tuple[int, ...]
Answer = Callable[[bytes], Iterable[bytes]]
"""What to send back to the client for one datagram received (nothing: stay silent)."""


@dataclass
class ScriptedAgent:
    """A thread answering datagrams on 127.0.0.1:<port> with ``answer``; ``received`` keeps what came in."""

    answer: Answer
    community: str = "hostile-Qm4-community"
    received: list[bytes] = field(default_factory=list)

    host = "127.0.0.1"

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.host, 0))
        self.sock.settimeout(0.1)
        self.port: int = self.sock.getsockname()[1]
        self.last_client: tuple[str, int] | None = None
        self._upstream: socket.socket | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def target(self, credentials: Credentials | None = None, **kw: float) -> Target:
        return Target(self.host, self.port, credentials or V2c(self.community), **kw)  # type: ignore[arg-type]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, client = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            self.received.append(data)
            self.last_client = client
            for reply in self.answer(data):
                self.sock.sendto(reply, client)

    def forward(self, data: bytes, upstream: tuple[str, int], timeout: float = 2.0) -> bytes | None:
        """Relay ``data`` to a real agent and return its answer (None when it gives none in ``timeout``)."""
        if self._upstream is None:
            self._upstream = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._upstream.settimeout(timeout)
        self._upstream.sendto(data, upstream)
        try:
            return self._upstream.recv(65535)
        except TimeoutError:
            return None

    def send_from_elsewhere(self, data: bytes) -> None:
        """Send ``data`` to the last client from another port: a spoofed answer."""
        assert self.last_client is not None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            other.bind((self.host, 0))
            other.sendto(data, self.last_client)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        if self._upstream is not None:
            self._upstream.close()

    def __enter__(self) -> ScriptedAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def subid(v: int) -> bytes:
    """One sub-identifier in base 128 (X.690 8.19.2), of any size."""
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def oid_tlv(arcs: Iterable[int]) -> bytes:
    """An OBJECT IDENTIFIER TLV of any arcs, valid or not (not through the client's caches)."""
    first, second, *rest = arcs
    body = subid(first * 40 + second) + b"".join(subid(a) for a in rest)
    return b"\x06" + encode_length(len(body)) + body


def varbind(name: bytes, value: bytes) -> bytes:
    """A VarBind from an OID TLV and a value TLV, both raw."""
    return tlv(0x30, name + value)


def v2c_request(data: bytes) -> Pdu:
    """The PDU of a v2c request, OIDs left as their content octets (never through the client's OID caches)."""
    return decode_community_message(data, oid=lambda body: body)[2]


def v2c_response(community: str, request_id: int, varbinds: Iterable[bytes]) -> bytes:
    """A v2c Response carrying raw VarBinds."""
    vbl = tlv(0x30, b"".join(varbinds))
    return tlv(0x30, b"\x02\x01\x01" + tlv(0x04, community.encode()) + encode_pdu(RESPONSE, request_id, vbl))


END_OF_MIB_VIEW = b"\x82\x00"
NO_SUCH_OBJECT = b"\x80\x00"


def mib_answer(community: str, objects: Mapping[Arcs, bytes], non_repeaters: bool = True) -> Answer:
    """Answer v2c GET and GETBULK (non-repeaters, then any number of varbinds row-major, as RFC 3416 says) from
    ``objects`` (arcs → raw value TLV), in OID order; ``non_repeaters=False``: a broken agent that repeats them
    as well."""
    ordered = sorted(objects)

    def answer(data: bytes) -> list[bytes]:
        pdu = decode_community_message(data, oid=decode_oid_arcs)[2]
        if pdu.tag == GET:
            out = [varbind(oid_tlv(name), objects.get(name, NO_SUCH_OBJECT)) for name, _ in pdu.varbinds]
            return [v2c_response(community, pdu.request_id, out)]
        cursors = [name for name, _ in pdu.varbinds]
        k = pdu.error_status if non_repeaters else 0
        singles, cursors = cursors[:k], cursors[k:]
        out = []
        for name in singles:
            at = bisect.bisect_right(ordered, name)
            out.append(varbind(oid_tlv(ordered[at]), objects[ordered[at]]) if at < len(ordered)
                       else varbind(oid_tlv(name), END_OF_MIB_VIEW))
        for _ in range(max(1, pdu.error_index)):
            ended = True
            for j, cursor in enumerate(cursors):
                at = bisect.bisect_right(ordered, cursor)
                if at < len(ordered):
                    cursors[j] = ordered[at]
                    out.append(varbind(oid_tlv(ordered[at]), objects[ordered[at]]))
                    ended = False
                else:
                    out.append(varbind(oid_tlv(cursor), END_OF_MIB_VIEW))
            if ended:
                break
        return [v2c_response(community, pdu.request_id, out)]

    return answer


def mac_span(message: bytes) -> tuple[int, int]:
    """Where the msgAuthenticationParameters (the MAC) of an SNMPv3 message lie: (start, end)."""
    pos, _ = read_header(message, 0, 0x30)
    pos = read_header(message, read_int(message, pos)[1], 0x30)[1]  # past msgVersion and msgGlobalData
    pos, _ = read_header(message, pos, 0x04)  # msgSecurityParameters
    pos, _ = read_header(message, pos, 0x30)
    pos = read_octets(message, pos)[1]  # engine ID
    pos = read_int(message, read_int(message, pos)[1])[1]  # boots, time
    pos = read_octets(message, pos)[1]  # user name
    return read_header(message, pos, 0x04)


SYS_UPTIME, SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 3, 0), (1, 3, 6, 1, 2, 1, 1, 1, 0)
IF_TYPE = (1, 3, 6, 1, 2, 1, 2, 2, 1, 3)
HC_IN, HC_OUT = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10)

BAD_VALUES = {
    2: b"\x46\x09\x01" + b"\x00" * 8,  # Counter64 of 2**64
    3: b"\x41\x05\x01\x00\x00\x00\x00",  # Counter32 of 2**32
    4: encode_integer(-1000),  # INTEGER where the profile expects a Counter64
}
"""ifHCInOctets of rows 2-4 as a broken agent sent them; row 1 is fine."""


def hostile_interfaces() -> dict[tuple[int, ...], bytes]:
    """ifTable/ifXTable of 4 rows whose ifHCInOctets of rows 2-4 are out of range, and a negative sysUpTime."""
    objects = {SYS_UPTIME: encode_integer(-5), SYS_DESCR: b"\x04\x07hostile"}  # sysUpTime as INTEGER -5
    for row in range(1, 5):
        objects[(*IF_TYPE, row)] = encode_integer(6)
        objects[(*HC_IN, row)] = BAD_VALUES.get(row, b"\x46\x02\x03\xe8")  # valid: Counter64 1000
        objects[(*HC_OUT, row)] = b"\x46\x01\x05"
    return objects


def endless_columns(columns: Iterable[Arcs], community: str = "hostile-Qm4-community") -> ScriptedAgent:
    """An agent whose tables never end: a GETBULK on any of ``columns`` gets ever higher rows of that column
    (row-major over the request's varbinds after its non-repeaters); anything else gets endOfMibView."""
    known = sorted(columns, key=len, reverse=True)

    def answer(data: bytes) -> list[bytes]:
        pdu = v2c_request(data)
        asked = [decode_oid_arcs(name) for name, _ in pdu.varbinds]
        if pdu.tag == GET:
            return [v2c_response(community, pdu.request_id,
                                 [varbind(oid_tlv(name), NO_SUCH_OBJECT) for name in asked])]
        singles, asked = asked[:pdu.error_status], asked[pdu.error_status:]
        out = [varbind(oid_tlv(arcs), END_OF_MIB_VIEW) for arcs in singles]
        for r in range(1, 1 + max(1, pdu.error_index)):
            for arcs in asked:
                column = next((c for c in known if arcs[: len(c)] == c), None)
                if column is None:
                    out.append(varbind(oid_tlv(arcs), END_OF_MIB_VIEW))
                else:
                    last = arcs[len(column)] if len(arcs) > len(column) else 0
                    out.append(varbind(oid_tlv((*column, last + r)), b"\x41\x01\x01"))
        return [v2c_response(community, pdu.request_id, out)]

    return ScriptedAgent(answer)
