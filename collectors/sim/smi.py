"""SMI values as the simulator holds them: OIDs as int tuples, values as the types of ``collectors.snmp.values``
plus the few the client never returns (Opaque, NULL and the v2c exception values)."""

from __future__ import annotations

from enum import IntEnum

from collectors.snmp.values import Counter32, Counter64, Gauge32, IpAddress, ObjectId, TimeTicks

Oid = tuple[int, ...]
"""An object identifier as a tuple of arcs; tuples sort in SNMP's lexicographic order."""


class Opaque(bytes):
    """An Opaque value (BER-wrapped arbitrary data), kept as its raw octets."""


class Special:
    """A value without content: NULL, noSuchObject, noSuchInstance or endOfMibView."""

    __slots__ = ("name", "tag")

    def __init__(self, name: str, tag: int) -> None:
        self.name = name
        self.tag = tag

    def __repr__(self) -> str:
        return self.name


NULL = Special("NULL", 0x05)
NO_SUCH_OBJECT = Special("noSuchObject", 0x80)
NO_SUCH_INSTANCE = Special("noSuchInstance", 0x81)
END_OF_MIB_VIEW = Special("endOfMibView", 0x82)
EXCEPTIONS = (NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW)

Value = int | bytes | str | Special
"""int (Integer32) and its subclasses Counter32/Counter64/Gauge32/TimeTicks, bytes (OCTET STRING) and Opaque,
IpAddress and ObjectId (str subclasses), or a ``Special``. A plain str is sent as UTF-8 octets."""

VarBind = tuple[Oid, Value]


class PduType(IntEnum):
    """BER tags of the SNMPv2c PDUs."""

    GET = 0xA0
    GET_NEXT = 0xA1
    RESPONSE = 0xA2
    SET = 0xA3
    GET_BULK = 0xA5
    INFORM = 0xA6
    TRAP = 0xA7
    REPORT = 0xA8


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


def parse_oid(text: str) -> Oid:
    """``"1.3.6.1.2.1.1.3.0"`` or ``".1.3..."`` → ``(1, 3, 6, 1, 2, 1, 1, 3, 0)``."""
    text = text.strip().lstrip(".")
    if not text:
        raise ValueError("empty OID")
    return tuple(int(arc) for arc in text.split("."))


def format_oid(oid: Oid) -> str:
    """``(1, 3, 6)`` → ``"1.3.6"``."""
    return ".".join(map(str, oid))


def same_kind(a: Value, b: Value) -> bool:
    """Whether two values have the same SMI type (a SET must keep an object's type)."""
    return type(a) is type(b) or (isinstance(a, bytes) and isinstance(b, bytes) and type(a) is not Opaque
                                  and type(b) is not Opaque)


__all__ = [
    "END_OF_MIB_VIEW", "EXCEPTIONS", "NO_SUCH_INSTANCE", "NO_SUCH_OBJECT", "NULL", "Counter32", "Counter64",
    "ErrorStatus", "Gauge32", "IpAddress", "ObjectId", "Oid", "Opaque", "PduType", "Special", "TimeTicks", "Value",
    "VarBind", "format_oid", "parse_oid", "same_kind",
]
