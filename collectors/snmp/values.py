"""Python types for SNMP values, keeping the SMI type where arithmetic depends on it."""

from __future__ import annotations

from dataclasses import dataclass


class Counter32(int):
    """A 32-bit counter (wraps at 2**32)."""


class Counter64(int):
    """A 64-bit counter (wraps at 2**64)."""


class Gauge32(int):
    """A 32-bit gauge (also Unsigned32)."""


class TimeTicks(int):
    """Hundredths of a second (sysUpTime)."""


class IpAddress(str):
    """A dotted IPv4 address."""


class ObjectId(str):
    """A dotted object identifier, without a leading dot."""


class Opaque(bytes):
    """An Opaque value (BER-wrapped arbitrary data), kept as its raw octets."""


class Special:
    """A value without content: NULL, or an SNMPv2 exception in place of a variable (noSuchObject,
    noSuchInstance, endOfMibView). ``tag`` is its BER tag."""

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
SPECIALS = (NULL, *EXCEPTIONS)

@dataclass(frozen=True, slots=True)
class Invalid:
    """A value the agent sent outside its SMI type's range (a Counter64 of 2**64, a 5-octet Counter32, a
    6-octet INTEGER, an IpAddress of 5 octets...): an invalid reading of that object, never a number.
    ``kind`` is the type the agent claimed, ``reason`` what was wrong (never the value's octets)."""

    kind: str
    reason: str

    def __str__(self) -> str:
        return f"invalid {self.kind}: {self.reason}"


Value = int | bytes | str | Invalid
"""What the client returns: Integer32 as int, the classes above, OCTET STRING as bytes, and ``Invalid`` for a
value outside its type's range (decoding goes on with the other variables)."""

COUNTER_MODULUS = {Counter32: 2**32, Counter64: 2**64}
