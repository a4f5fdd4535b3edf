"""SMI values as the simulator holds them: OIDs as tuples of arcs (``collectors.snmp.ber.Oid``), values as the
types of ``collectors.snmp.values``, including the few the client never returns (Opaque, NULL and the v2c
exception values, ``Special``)."""

from __future__ import annotations

from collectors.snmp.ber import Oid as Oid
from collectors.snmp.values import Invalid, Opaque, Special

Value = int | bytes | str | Special | Invalid
"""int (Integer32) and its subclasses Counter32/Counter64/Gauge32/TimeTicks, bytes (OCTET STRING) and Opaque,
IpAddress and ObjectId (str subclasses), or a ``Special``. A plain str is sent as UTF-8 octets."""

VarBind = tuple[Oid, Value]


def same_kind(a: Value, b: Value) -> bool:
    """Whether two values have the same SMI type (a SET must keep an object's type)."""
    return type(a) is type(b) or (isinstance(a, bytes) and isinstance(b, bytes) and type(a) is not Opaque
                                  and type(b) is not Opaque)
