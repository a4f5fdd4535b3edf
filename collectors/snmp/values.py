"""Python types for SNMP values, keeping the SMI type where arithmetic depends on it."""

from __future__ import annotations


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


Value = int | bytes | str
"""What the client returns: Integer32 as int, the classes above, OCTET STRING as bytes."""

COUNTER_MODULUS = {Counter32: 2**32, Counter64: 2**64}
