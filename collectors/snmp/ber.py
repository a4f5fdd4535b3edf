"""Minimal, fast BER codec for SNMP PDUs (RFC 3416) and SNMPv1/v2c messages (RFC 1901).

Only what a manager needs: encode requests (GET, GETNEXT, GETBULK, SET) and decode responses, reports
and their values into the types of :mod:`collectors.snmp.values`. Written for speed (a 10-object GET
response decodes in a few microseconds); malformed input raises :class:`BerError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from collectors.snmp.values import Counter32, Counter64, Gauge32, IpAddress, ObjectId, TimeTicks, Value

GET, GETNEXT, RESPONSE, SET, GETBULK, REPORT = 0xA0, 0xA1, 0xA2, 0xA3, 0xA5, 0xA8

ERROR_STATUS = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType",
    "wrongLength", "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue", "resourceUnavailable",
    "commitFailed", "undoFailed", "authorizationError", "notWritable", "inconsistentName",
)  # fmt: skip
"""RFC 3416 error-status names, indexed by value."""


class BerError(ValueError):
    """Input that is not a well-formed SNMP message."""


class VarBindException:
    """An SNMPv2 exception value in place of a variable: noSuchObject, noSuchInstance, endOfMibView."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


NO_SUCH_OBJECT = VarBindException("noSuchObject")
NO_SUCH_INSTANCE = VarBindException("noSuchInstance")
END_OF_MIB_VIEW = VarBindException("endOfMibView")

Decoded = Value | VarBindException


@dataclass(slots=True)
class Pdu:
    """A decoded PDU: type tag, request-id, error status/index and variable bindings."""

    tag: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[tuple[str, Decoded]]


# --- encoding -------------------------------------------------------------------------------------

_SHORT_LEN = [bytes((n,)) for n in range(128)]


def encode_length(n: int) -> bytes:
    """BER definite length."""
    if n < 128:
        return _SHORT_LEN[n]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, body: bytes) -> bytes:
    """One tag-length-value element."""
    n = len(body)
    if n < 128:
        return bytes((tag, n)) + body
    return bytes((tag,)) + encode_length(n) + body


def encode_integer(v: int, tag: int = 0x02) -> bytes:
    """Signed INTEGER (minimal two's complement)."""
    if 0 <= v < 128:
        return bytes((tag, 1, v))
    n = ((v if v >= 0 else ~v).bit_length() + 8) // 8
    return bytes((tag, n)) + v.to_bytes(n, "big", signed=True)


def encode_unsigned(v: int, tag: int, bits: int) -> bytes:
    """An unsigned application type (Counter32, Gauge32, TimeTicks, Counter64)."""
    if not 0 <= v < 1 << bits:
        raise ValueError(f"{v} out of range for a {bits}-bit unsigned value")
    n = v.bit_length() // 8 + 1
    return bytes((tag, n)) + v.to_bytes(n, "big")


def encode_octets(v: bytes, tag: int = 0x04) -> bytes:
    """OCTET STRING."""
    return tlv(tag, v)


def _oid_arcs(oid: str) -> list[int]:
    try:
        arcs = [int(a) for a in oid.strip().lstrip(".").split(".")]
    except ValueError:
        raise ValueError(f"not a numeric OID: {oid!r}") from None
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise ValueError(f"not a valid OID: {oid!r}")
    return arcs


def encode_oid_body(oid: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER given as dotted numbers (leading dot allowed)."""
    arcs = _oid_arcs(oid)
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        if arc < 128:
            out.append(arc)
            continue
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def normalize_oid(oid: str) -> str:
    """Dotted form without a leading dot; raises ValueError when not a valid numeric OID."""
    return ".".join(map(str, _oid_arcs(oid)))


def encode_value(v: object) -> bytes:
    """A Python value as its SMI encoding (see :mod:`collectors.snmp.values`).

    bool/int → Integer32, Counter32/Gauge32/TimeTicks/Counter64 → their types, IpAddress → IpAddress,
    ObjectId → OBJECT IDENTIFIER, bytes/str (UTF-8) → OCTET STRING, None → NULL.
    """
    if v is None:
        return b"\x05\x00"
    if isinstance(v, int):
        if isinstance(v, Counter32):
            return encode_unsigned(v, 0x41, 32)
        if isinstance(v, Gauge32):
            return encode_unsigned(v, 0x42, 32)
        if isinstance(v, TimeTicks):
            return encode_unsigned(v, 0x43, 32)
        if isinstance(v, Counter64):
            return encode_unsigned(v, 0x46, 64)
        if not -(2**31) <= v < 2**31:
            raise ValueError(f"{v} out of range for Integer32")
        return encode_integer(int(v))
    if isinstance(v, IpAddress):
        parts = [int(p) for p in v.split(".")]
        if len(parts) != 4 or not all(0 <= p < 256 for p in parts):
            raise ValueError(f"not an IPv4 address: {v!r}")
        return b"\x40\x04" + bytes(parts)
    if isinstance(v, ObjectId):
        return tlv(0x06, encode_oid_body(v))
    if isinstance(v, bytes | bytearray | memoryview):
        return tlv(0x04, bytes(v))
    if isinstance(v, str):
        return tlv(0x04, v.encode())
    raise TypeError(f"cannot encode {type(v).__name__} as an SNMP value")


def encode_varbinds(varbinds: Sequence[tuple[str, object]]) -> bytes:
    """VarBindList of (oid, value) pairs; value None encodes NULL (for GET requests)."""
    body = b"".join(tlv(0x30, tlv(0x06, encode_oid_body(oid)) + encode_value(v)) for oid, v in varbinds)
    return tlv(0x30, body)


def encode_pdu(tag: int, request_id: int, varbind_list: bytes, a: int = 0, b: int = 0) -> bytes:
    """A PDU; ``a``/``b`` are error-status/index, or non-repeaters/max-repetitions for GETBULK."""
    return tlv(tag, encode_integer(request_id) + encode_integer(a) + encode_integer(b) + varbind_list)


def encode_community_message(version: int, community: bytes, pdu: bytes) -> bytes:
    """An SNMPv1 (version 0) or SNMPv2c (version 1) message."""
    return tlv(0x30, bytes((2, 1, version)) + tlv(0x04, community) + pdu)


# --- decoding -------------------------------------------------------------------------------------


def read_header(data: bytes, pos: int, tag: int) -> tuple[int, int]:
    """Check the tag at ``pos``; return (content start, content end)."""
    if data[pos] != tag:
        raise BerError(f"expected tag 0x{tag:02x}, got 0x{data[pos]:02x} at {pos}")
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[pos : pos + k], "big")
        pos += k
    end = pos + n
    if end > len(data):
        raise BerError("truncated element")
    return pos, end


def read_int(data: bytes, pos: int) -> tuple[int, int]:
    """An INTEGER at ``pos``; return (value, next position)."""
    start, end = read_header(data, pos, 0x02)
    return int.from_bytes(data[start:end], "big", signed=True), end


def read_octets(data: bytes, pos: int) -> tuple[bytes, int]:
    """An OCTET STRING at ``pos``; return (value, next position)."""
    start, end = read_header(data, pos, 0x04)
    return data[start:end], end


def decode_oid(body: bytes) -> str:
    """Content octets of an OBJECT IDENTIFIER as dotted numbers."""
    arcs: list[int] = []
    v = 0
    for b in body:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(v)
            v = 0
    if not arcs or body[-1] & 0x80:
        raise BerError("bad OBJECT IDENTIFIER")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return ".".join(map(str, (*head, *arcs[1:])))


_OID_CACHE: dict[bytes, str] = {}
_OID_CACHE_MAX = 200_000


def _oid(body: bytes) -> str:
    s = _OID_CACHE.get(body)
    if s is None:
        s = decode_oid(body)
        if len(_OID_CACHE) >= _OID_CACHE_MAX:
            _OID_CACHE.clear()
        _OID_CACHE[body] = s
    return s


def _ip(raw: bytes) -> IpAddress:
    if len(raw) != 4:
        raise BerError("bad IpAddress")
    return IpAddress("%d.%d.%d.%d" % tuple(raw))  # noqa: UP031 (fastest here)


_from_bytes = int.from_bytes
_VALUE = {
    0x41: lambda r: Counter32(_from_bytes(r, "big")),
    0x42: lambda r: Gauge32(_from_bytes(r, "big")),
    0x43: lambda r: TimeTicks(_from_bytes(r, "big")),
    0x46: lambda r: Counter64(_from_bytes(r, "big")),
    0x40: _ip,
    0x06: lambda r: ObjectId(decode_oid(r)),
    0x44: bytes,  # Opaque
    0x05: lambda r: None,  # NULL: not a value; dropped by callers
    0x80: lambda r: NO_SUCH_OBJECT,
    0x81: lambda r: NO_SUCH_INSTANCE,
    0x82: lambda r: END_OF_MIB_VIEW,
}


def decode_pdu(data: bytes, pos: int) -> Pdu:
    """The PDU starting at ``data[pos]`` (any PDU type)."""
    tag = data[pos]
    if tag & 0xE0 != 0xA0:
        raise BerError(f"not a PDU tag: 0x{tag:02x}")
    pos, _ = read_header(data, pos, tag)
    request_id, pos = read_int(data, pos)
    status, pos = read_int(data, pos)
    index, pos = read_int(data, pos)
    pos, end = read_header(data, pos, 0x30)
    varbinds: list[tuple[str, Decoded]] = []
    append = varbinds.append
    while pos < end:
        # Inlined element parsing: this loop is the hot path of every poll.
        if data[pos] != 0x30:
            raise BerError("expected VarBind SEQUENCE")
        n = data[pos + 1]
        pos += 2
        if n & 0x80:
            pos += n & 0x7F
        if data[pos] != 0x06:
            raise BerError("expected OBJECT IDENTIFIER")
        n = data[pos + 1]
        pos += 2
        if n & 0x80:
            k = n & 0x7F
            n = _from_bytes(data[pos : pos + k], "big")
            pos += k
        oid = _oid(data[pos : pos + n])
        pos += n
        vtag = data[pos]
        n = data[pos + 1]
        pos += 2
        if n & 0x80:
            k = n & 0x7F
            n = _from_bytes(data[pos : pos + k], "big")
            pos += k
        raw = data[pos : pos + n]
        pos += n
        if len(raw) != n:
            raise BerError("truncated value")
        if vtag == 0x04:
            append((oid, raw))
        elif vtag == 0x02:
            append((oid, _from_bytes(raw, "big", signed=True)))
        else:
            conv = _VALUE.get(vtag)
            if conv is not None:
                append((oid, conv(raw)))
            elif 0x40 <= vtag < 0x5F:  # other application types (NsapAddress, UInteger32): raw octets
                append((oid, raw))
            else:
                raise BerError(f"unknown value tag 0x{vtag:02x}")
    if pos != end:
        raise BerError("VarBindList overrun")
    return Pdu(tag, request_id, status, index, varbinds)


def peek_message_id(data: bytes) -> int:
    """The request-id of a v1/v2c message or the msgID of a v3 message, to match it to a request."""
    pos, _ = read_header(data, 0, 0x30)
    version, pos = read_int(data, pos)
    if version == 3:
        pos, _ = read_header(data, pos, 0x30)
        return read_int(data, pos)[0]
    _, pos = read_octets(data, pos)
    pos, _ = read_header(data, pos, data[pos])
    return read_int(data, pos)[0]


def decode_community_message(data: bytes) -> tuple[int, bytes, Pdu]:
    """An SNMPv1/v2c message: (version, community, PDU)."""
    try:
        pos, _end = read_header(data, 0, 0x30)
        version, pos = read_int(data, pos)
        community, pos = read_octets(data, pos)
        return version, community, decode_pdu(data, pos)
    except (IndexError, ValueError) as exc:
        raise BerError(str(exc)) from None
