"""Minimal, fast BER codec for SNMP PDUs (RFC 3416) and SNMPv1/v2c messages (RFC 1901).

The one SNMP codec of ``collectors``, for both ends of the wire: the manager (:mod:`collectors.snmp.client`
encodes requests and decodes responses and reports, OIDs as dotted strings) and the agent simulator
(:mod:`collectors.sim` decodes requests and encodes responses, OIDs as tuples of arcs: ``oid=decode_oid_arcs``).
Values are the types of :mod:`collectors.snmp.values`. Definite lengths and low tag numbers only; the output is
what pyasn1 produces except for negative powers of two, which get BER's minimal form. Written for speed (a
10-object GET response decodes in a few microseconds); malformed input raises :class:`BerError`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from collectors.snmp.values import (
    NULL,
    SPECIALS,
    Counter32,
    Counter64,
    Gauge32,
    Invalid,
    IpAddress,
    ObjectId,
    Opaque,
    Special,
    TimeTicks,
    Value,
)


class PduType(IntEnum):
    """BER tags of the SNMP PDUs."""

    GET = 0xA0
    GET_NEXT = 0xA1
    RESPONSE = 0xA2
    SET = 0xA3
    TRAP_V1 = 0xA4
    GET_BULK = 0xA5
    INFORM = 0xA6
    TRAP = 0xA7
    REPORT = 0xA8


GET, GETNEXT, RESPONSE, SET, GETBULK, REPORT = map(int, (PduType.GET, PduType.GET_NEXT, PduType.RESPONSE,
                                                          PduType.SET, PduType.GET_BULK, PduType.REPORT))
"""The PDU tags as plain ints (the client's hot path)."""


class ErrorStatus(IntEnum):
    """Error-status values of RFC 3416."""

    NO_ERROR = 0
    TOO_BIG = 1
    NO_SUCH_NAME = 2
    BAD_VALUE = 3
    READ_ONLY = 4
    GEN_ERR = 5
    NO_ACCESS = 6
    WRONG_TYPE = 7
    WRONG_LENGTH = 8
    WRONG_ENCODING = 9
    WRONG_VALUE = 10
    NO_CREATION = 11
    INCONSISTENT_VALUE = 12
    RESOURCE_UNAVAILABLE = 13
    COMMIT_FAILED = 14
    UNDO_FAILED = 15
    AUTHORIZATION_ERROR = 16
    NOT_WRITABLE = 17
    INCONSISTENT_NAME = 18


def _camel(name: str) -> str:
    first, *rest = name.lower().split("_")
    return first + "".join(word.title() for word in rest)


ERROR_STATUS = tuple(_camel(status.name) for status in ErrorStatus)
"""RFC 3416 error-status names ("noError", "tooBig", …), indexed by value."""

TAG_INTEGER = 0x02
TAG_OCTETS = 0x04
TAG_NULL = 0x05
TAG_OID = 0x06
TAG_SEQUENCE = 0x30
TAG_IPADDRESS = 0x40
TAG_COUNTER32 = 0x41
TAG_GAUGE32 = 0x42
TAG_TIMETICKS = 0x43
TAG_OPAQUE = 0x44
TAG_COUNTER64 = 0x46

TYPE_TAGS: dict[type, int] = {
    int: TAG_INTEGER, bytes: TAG_OCTETS, str: TAG_OCTETS, ObjectId: TAG_OID, IpAddress: TAG_IPADDRESS,
    Counter32: TAG_COUNTER32, Gauge32: TAG_GAUGE32, TimeTicks: TAG_TIMETICKS, Opaque: TAG_OPAQUE,
    Counter64: TAG_COUNTER64,
}  # fmt: skip
"""The BER tag of each value type (a plain str is sent as OCTET STRING); a ``Special`` carries its own tag.
snmpsim's ``.snmprec`` files number their types with the same tags, in decimal."""

TAG_TYPES: dict[int, type[int] | type[bytes] | type[str]] = {
    tag: kind for kind, tag in TYPE_TAGS.items() if kind is not str}
"""Value type by BER tag (the inverse of ``TYPE_TAGS``)."""

SPECIAL_TAGS: dict[int, Special] = {special.tag: special for special in SPECIALS}
"""NULL and the SNMPv2 exceptions by BER tag."""


def tag_of(value: object) -> int:
    """The BER tag ``value`` is encoded with (subclasses of int, bytes and str as their base)."""
    if isinstance(value, Special):
        return value.tag
    tag = TYPE_TAGS.get(type(value))
    if tag is None:
        tag = next((t for kind, t in TYPE_TAGS.items() if isinstance(value, kind)), None)
        if tag is None:
            raise TypeError(f"cannot encode {type(value).__name__} as an SNMP value")
    return tag


class BerError(ValueError):
    """Input that is not a well-formed SNMP message."""


Decoded = Value | Special
"""A decoded value: NULL (in requests) and the exceptions come as their ``Special``; a value outside its
type's range as an ``Invalid`` (the rest of the message is decoded as usual)."""

Oid = tuple[int, ...]
"""An object identifier as a tuple of arcs; tuples sort in SNMP's lexicographic order."""


@dataclass(slots=True)
class Pdu:
    """A decoded PDU: type tag, request-id, error status/index and variable bindings.

    For GETBULK, ``error_status`` holds non-repeaters and ``error_index`` max-repetitions. OIDs are dotted
    strings, or tuples of arcs when decoded with ``oid=decode_oid_arcs``."""

    tag: int
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[tuple[Any, Decoded]]


# --- object identifiers ---------------------------------------------------------------------------


MAX_SUBID = 2**32 - 1
"""The largest sub-identifier (RFC 2578 3.5; net-snmp rejects larger ones)."""
MAX_OID_ARCS = 128
"""The most sub-identifiers an OID may have (RFC 2578 3.5)."""
_MAX_OID_OCTETS = 5 * (MAX_OID_ARCS - 1)
"""Content octets of the longest valid OID (the first octets carry two arcs; 5 octets hold 32 bits)."""
OID_CACHE_BYTES = 16 << 20
"""Memory budget (estimated bytes) of each OID cache (decoding to strings, to arcs, and encoding)."""


def parse_oid(oid: str) -> Oid:
    """``"1.3.6.1.2.1.1.3.0"`` or ``".1.3..."`` → ``(1, 3, 6, 1, 2, 1, 1, 3, 0)``; ValueError when not valid."""
    if len(oid) > _MAX_OID_OCTETS * 3:  # no valid OID is that long, even with spaces and leading dots
        raise ValueError(f"not a valid OID: too long ({len(oid)} characters)")
    try:
        arcs = tuple(int(a) for a in oid.strip().lstrip(".").split("."))
    except ValueError:
        raise ValueError(f"not a numeric OID: {oid!r}") from None
    _check_arcs(arcs, oid)
    return arcs


def _check_arcs(arcs: Sequence[int], oid: object) -> None:
    if len(arcs) > MAX_OID_ARCS:
        raise ValueError(f"not a valid OID: more than {MAX_OID_ARCS} sub-identifiers")
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0 or max(arcs) > MAX_SUBID:
        raise ValueError(f"not a valid OID: {oid!r}")
    if arcs[0] * 40 + arcs[1] > MAX_SUBID:
        raise ValueError(f"not a valid OID: first sub-identifiers too large in {oid!r}")


def format_oid(oid: Iterable[int]) -> str:
    """``(1, 3, 6)`` → ``"1.3.6"``."""
    return ".".join(map(str, oid))


def normalize_oid(oid: str) -> str:
    """Dotted form without a leading dot; raises ValueError when not a valid numeric OID."""
    return format_oid(parse_oid(oid))


class OidCache(dict[Any, Any]):
    """A memo of an OID conversion, bounded by an estimate of the bytes it holds, not only by entries:
    when a new entry would exceed ``budget`` it starts over empty. Look up with ``cache[key]`` (a plain
    dict lookup on a hit); a conversion that raises caches nothing."""

    __slots__ = ("budget", "convert", "used")

    def __init__(self, convert: Callable[[Any], Any], budget: int = OID_CACHE_BYTES) -> None:
        super().__init__()
        self.convert = convert
        self.budget = budget
        self.used = 0

    def __missing__(self, key: Any) -> Any:
        value = self.convert(key)
        cost = _ENTRY_BYTES + _sizeof(key) + _sizeof(value)
        if self.used + cost > self.budget:
            self.clear()
        self.used += cost
        self[key] = value
        return value

    def clear(self) -> None:
        """Drop every entry."""
        super().clear()
        self.used = 0


_ENTRY_BYTES = 100
"""A dict entry with its share of the table."""


def _sizeof(obj: object) -> int:
    """Bytes held by a cached key or value: a str, bytes, or tuple of ints (each int counted)."""
    size = sys.getsizeof(obj)
    return size + 32 * len(obj) if isinstance(obj, tuple) else size


def _encode_oid(oid: str | Oid) -> bytes:
    if isinstance(oid, str):
        arcs: Sequence[int] = parse_oid(oid)
    else:
        _check_arcs(oid, oid)
        arcs = oid
    out = bytearray()
    for arc in (arcs[0] * 40 + arcs[1], *arcs[2:]):
        if arc < 128:
            out.append(arc)
            continue
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv(TAG_OID, bytes(out))


OID_TLV_CACHE = OidCache(_encode_oid)
encode_oid: Callable[[str | Oid], bytes] = OID_TLV_CACHE.__getitem__
"""The whole TLV of an OBJECT IDENTIFIER given as dotted numbers (leading dot allowed) or as arcs (cached);
ValueError when not valid."""


def _arcs(body: bytes) -> Oid:
    """Decode in one pass, bounded: no sub-identifier beyond 32 bits is ever built up."""
    if len(body) > _MAX_OID_OCTETS:
        raise BerError(f"OBJECT IDENTIFIER of {len(body)} octets: longer than {MAX_OID_ARCS} sub-identifiers")
    arcs: list[int] = []
    v = 0
    for b in body:
        v = (v << 7) | (b & 0x7F)
        if v > MAX_SUBID:
            raise BerError("OBJECT IDENTIFIER sub-identifier above 2**32-1")
        if not b & 0x80:
            arcs.append(v)
            v = 0
    if not arcs or body[-1] & 0x80:
        raise BerError("bad OBJECT IDENTIFIER")
    if len(arcs) >= MAX_OID_ARCS:
        raise BerError(f"OBJECT IDENTIFIER of more than {MAX_OID_ARCS} sub-identifiers")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


OID_ARCS_CACHE = OidCache(_arcs)
OID_STRINGS_CACHE = OidCache(lambda body: format_oid(_arcs(body)))

decode_oid_arcs: Callable[[bytes], Oid] = OID_ARCS_CACHE.__getitem__
"""Content octets of an OBJECT IDENTIFIER as a tuple of arcs (cached); BerError when not valid."""

decode_oid: Callable[[bytes], str] = OID_STRINGS_CACHE.__getitem__
"""Content octets of an OBJECT IDENTIFIER as dotted numbers (cached); BerError when not valid."""


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


def encode_integer(v: int, tag: int = TAG_INTEGER) -> bytes:
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


def encode_octets(v: bytes, tag: int = TAG_OCTETS) -> bytes:
    """OCTET STRING."""
    return tlv(tag, v)


def _integer32(v: int) -> bytes:
    if not -(2**31) <= v < 2**31:
        raise ValueError(f"{v} out of range for Integer32")
    return encode_integer(v)


def _ip_address(v: str) -> bytes:
    parts = [int(p) for p in v.split(".")]
    if len(parts) != 4 or not all(0 <= p < 256 for p in parts):
        raise ValueError(f"not an IPv4 address: {v!r}")
    return bytes((TAG_IPADDRESS, 4, *parts))


UNSIGNED_BITS: dict[type, int] = {Counter32: 32, Gauge32: 32, TimeTicks: 32, Counter64: 64}
"""The unsigned application types and their widths."""


def _unsigned(tag: int, bits: int) -> Callable[[int], bytes]:
    return lambda v: encode_unsigned(v, tag, bits)


_ENCODERS: dict[type, Callable[[Any], bytes]] = {
    int: _integer32,
    bytes: lambda v: tlv(TAG_OCTETS, v),
    str: lambda v: tlv(TAG_OCTETS, v.encode()),
    **{kind: _unsigned(TYPE_TAGS[kind], bits) for kind, bits in UNSIGNED_BITS.items()},
    IpAddress: _ip_address,
    ObjectId: encode_oid,
    Opaque: lambda v: tlv(TAG_OPAQUE, bytes(v)),
    Special: lambda v: bytes((v.tag, 0)),
    type(None): lambda v: b"\x05\x00",
    bytearray: lambda v: tlv(TAG_OCTETS, bytes(v)),
    memoryview: lambda v: tlv(TAG_OCTETS, bytes(v)),
}


def encode_value(v: object) -> bytes:
    """A Python value as its SMI encoding (see :mod:`collectors.snmp.values`).

    int (and bool) → Integer32, Counter32/Gauge32/TimeTicks/Counter64 → their types, IpAddress → IpAddress,
    ObjectId → OBJECT IDENTIFIER, bytes/str (UTF-8) → OCTET STRING, Opaque → Opaque, None → NULL, a ``Special``
    → NULL or its exception.
    """
    encoder = _ENCODERS.get(type(v))
    if encoder is None:
        for kind in (int, bytes, str):  # other subclasses (e.g. bool) as their base
            if isinstance(v, kind):
                return _ENCODERS[kind](v)
        raise TypeError(f"cannot encode {type(v).__name__} as an SNMP value")
    return encoder(v)


def encode_varbind(oid: str | Oid, value: object) -> bytes:
    """One VarBind; value None encodes NULL (for GET requests)."""
    return tlv(TAG_SEQUENCE, encode_oid(oid) + encode_value(value))


def encode_varbinds(varbinds: Iterable[tuple[str | Oid, object]]) -> bytes:
    """VarBindList of (oid, value) pairs; value None encodes NULL (for GET requests)."""
    return tlv(TAG_SEQUENCE, b"".join([encode_varbind(oid, v) for oid, v in varbinds]))


def encode_pdu(tag: int, request_id: int, varbind_list: bytes, a: int = 0, b: int = 0) -> bytes:
    """A PDU; ``a``/``b`` are error-status/index, or non-repeaters/max-repetitions for GETBULK."""
    return tlv(tag, encode_integer(request_id) + encode_integer(a) + encode_integer(b) + varbind_list)


def encode_community_message(version: int, community: bytes, pdu: bytes) -> bytes:
    """An SNMPv1 (version 0) or SNMPv2c (version 1) message."""
    return tlv(TAG_SEQUENCE, encode_integer(version) + tlv(TAG_OCTETS, community) + pdu)


# --- decoding -------------------------------------------------------------------------------------

_from_bytes = int.from_bytes


def _long_length(data: bytes, pos: int, first: int) -> tuple[int, int]:
    """The long form of a length whose first octet ``first`` (at ``pos - 1``) has bit 8 set: (length, next)."""
    k = first & 0x7F
    if not 0 < k <= 4 or pos + k > len(data):
        raise BerError("indefinite or oversized length")
    return _from_bytes(data[pos : pos + k], "big"), pos + k


def read_header(data: bytes, pos: int, tag: int) -> tuple[int, int]:
    """Check the tag at ``pos``; return (content start, content end)."""
    if data[pos] != tag:
        raise BerError(f"expected tag 0x{tag:02x}, got 0x{data[pos]:02x} at {pos}")
    n = data[pos + 1]
    pos += 2
    if n & 0x80:
        n, pos = _long_length(data, pos, n)
    end = pos + n
    if end > len(data):
        raise BerError("truncated element")
    return pos, end


def read_int(data: bytes, pos: int) -> tuple[int, int]:
    """An INTEGER at ``pos``; return (value, next position)."""
    start, end = read_header(data, pos, TAG_INTEGER)
    if start == end:
        raise BerError("empty INTEGER")
    return _from_bytes(data[start:end], "big", signed=True), end


def read_octets(data: bytes, pos: int) -> tuple[bytes, int]:
    """An OCTET STRING at ``pos``; return (value, next position)."""
    start, end = read_header(data, pos, TAG_OCTETS)
    return data[start:end], end


def _ip(raw: bytes) -> IpAddress | Invalid:
    if len(raw) != 4:
        return Invalid("IpAddress", f"{len(raw)} octets, not 4")
    return IpAddress("%d.%d.%d.%d" % tuple(raw))  # noqa: UP031 (fastest here)


def _object_id(raw: bytes) -> ObjectId | Invalid:
    try:
        return ObjectId(decode_oid(raw))
    except BerError as exc:
        return Invalid("ObjectId", str(exc))


def _unsigned_decoder(kind: type[int], bits: int) -> Callable[[bytes], Decoded]:
    """The decoder of an unsigned application type: an :class:`Invalid` when empty or above its range.

    Content octets are read as unsigned, so the common agent bug of a missing leading zero octet (a Counter32
    of 2**31 or more in 4 octets) still reads as net-snmp reads it."""
    most = bits // 8 + 1  # octets of the largest value, with its leading zero octet
    invalid = Invalid(kind.__name__, "{}-octet value outside the range 0..2**%d-1" % bits)  # noqa: UP031

    def decode(raw: bytes, kind: type[int] = kind, most: int = most) -> Decoded:
        n = len(raw)
        if 0 < n < most or (n == most and not raw[0]):  # the common case first: always in range
            return kind(_from_bytes(raw, "big"))
        return Invalid(invalid.kind, invalid.reason.format(n))

    return decode


def _wide_integer(raw: bytes) -> int | Invalid:
    """An INTEGER of 5 or more octets (or none): in range only when padded, else :class:`Invalid`."""
    if 0 < len(raw) <= 9:
        v = _from_bytes(raw, "big", signed=True)
        if -(2**31) <= v < 2**31:
            return v
    return Invalid("Integer32", f"{len(raw)}-octet value outside the range -2**31..2**31-1")


def _constant(special: Special) -> Callable[[bytes], Decoded]:
    """A decoder of a NULL / exception value: the content octets do not matter."""
    return lambda _raw: special


_VALUE: dict[int, Callable[[bytes], Decoded]] = {
    **{TYPE_TAGS[kind]: _unsigned_decoder(kind, bits) for kind, bits in UNSIGNED_BITS.items()},
    TAG_IPADDRESS: _ip,
    TAG_OID: _object_id,
    TAG_OPAQUE: Opaque,
    **{tag: _constant(special) for tag, special in SPECIAL_TAGS.items()},
}


_UNSIGNED_SIZES: dict[int, tuple[type[int], int]] = {
    TYPE_TAGS[kind]: (kind, bits // 8 + 1) for kind, bits in UNSIGNED_BITS.items()}
"""Unsigned application types by tag: (type, octets of its largest value with its leading zero octet)."""


def decode_pdu(data: bytes, pos: int, oid: Callable[[bytes], Any] = decode_oid) -> Pdu:
    """The PDU starting at ``data[pos]`` (any PDU type); ``oid`` turns OID content octets into the OIDs of
    the result (default: dotted strings; ``decode_oid_arcs``: tuples)."""
    tag = data[pos]
    if not GET <= tag <= REPORT:
        raise BerError(f"not a PDU tag: 0x{tag:02x}")
    pos, _ = read_header(data, pos, tag)
    request_id, pos = read_int(data, pos)
    status, pos = read_int(data, pos)
    index, pos = read_int(data, pos)
    pos, end = read_header(data, pos, TAG_SEQUENCE)
    varbinds: list[tuple[Any, Decoded]] = []
    append = varbinds.append
    unsigned_sizes, from_bytes = _UNSIGNED_SIZES, _from_bytes
    while pos < end:
        # Inlined element parsing: this loop is the hot path of every poll and of every simulated answer. An
        # element running past the VarBindList (or the datagram) is caught by the overrun check after the loop.
        if data[pos] != TAG_SEQUENCE:
            raise BerError("expected VarBind SEQUENCE")
        n = data[pos + 1]
        pos = _long_length(data, pos + 2, n)[1] if n & 0x80 else pos + 2
        if data[pos] != TAG_OID:
            raise BerError("expected OBJECT IDENTIFIER")
        n = data[pos + 1]
        if n & 0x80:
            n, pos = _long_length(data, pos + 2, n)
            if n > _MAX_OID_OCTETS:
                raise BerError(f"OBJECT IDENTIFIER of {n} octets: longer than {MAX_OID_ARCS} sub-identifiers")
        else:
            pos += 2
        at = pos + n
        name = oid(data[pos:at])
        vtag = data[at]
        n = data[at + 1]
        if n & 0x80:
            n, pos = _long_length(data, at + 2, n)
        else:
            pos = at + 2
        at = pos + n
        unsigned = unsigned_sizes.get(vtag)
        if unsigned is not None:  # counters, gauges, ticks in range (else their decoder)
            if 0 < n < unsigned[1] or (n == unsigned[1] and not data[pos]):
                append((name, unsigned[0](from_bytes(data[pos:at], "big"))))
            else:
                append((name, _VALUE[vtag](data[pos:at])))
        elif vtag == TAG_INTEGER:
            append((name, from_bytes(data[pos:at], "big", signed=True) if 0 < n < 5 else _wide_integer(data[pos:at])))
        elif vtag == TAG_OCTETS:
            append((name, data[pos:at]))
        elif vtag == TAG_NULL:
            append((name, NULL))
        else:
            conv = _VALUE.get(vtag)
            if conv is not None:
                append((name, conv(data[pos:at])))
            elif 0x40 <= vtag < 0x5F:  # other application types (NsapAddress, UInteger32): raw octets
                append((name, data[pos:at]))
            else:
                raise BerError(f"unknown value tag 0x{vtag:02x}")
        pos = at
    if pos != end:
        raise BerError("VarBindList overrun")
    return Pdu(tag, request_id, status, index, varbinds)


def peek_message_id(data: bytes) -> int:
    """The request-id of a v1/v2c message or the msgID of a v3 message, to match it to a request."""
    pos, _ = read_header(data, 0, TAG_SEQUENCE)
    version, pos = read_int(data, pos)
    if version == 3:
        pos, _ = read_header(data, pos, TAG_SEQUENCE)
        return read_int(data, pos)[0]
    _, pos = read_octets(data, pos)
    pos, _ = read_header(data, pos, data[pos])
    return read_int(data, pos)[0]


def decode_community_message(data: bytes, oid: Callable[[bytes], Any] = decode_oid) -> tuple[int, bytes, Pdu]:
    """An SNMPv1/v2c message: (version, community, PDU); ``oid`` as for :func:`decode_pdu`."""
    try:
        pos, _end = read_header(data, 0, TAG_SEQUENCE)
        version, pos = read_int(data, pos)
        community, pos = read_octets(data, pos)
        return version, community, decode_pdu(data, pos, oid)
    except (IndexError, ValueError) as exc:
        raise BerError(str(exc)) from None
