"""The reference codec: pysnmp's message layer (``pysnmp.proto.api.v2c``) and pyasn1's BER coder.

Slower than ``ber`` (about 1,500 requests/s per core for decode + encode), it is selectable with
``codec: pysnmp`` and serves as the decoder of last resort for unusual encodings ``ber`` refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error
from pysnmp.proto import api, rfc1902, rfc1905
from pysnmp.proto.api import v2c
from pysnmp.proto.error import ProtocolError

from collectors.sim.message import VERSION_2C, DecodeError, Message
from collectors.sim.smi import (
    END_OF_MIB_VIEW,
    NO_SUCH_INSTANCE,
    NO_SUCH_OBJECT,
    NULL,
    Counter32,
    Counter64,
    Gauge32,
    IpAddress,
    ObjectId,
    Opaque,
    Special,
    TimeTicks,
    Value,
    format_oid,
    parse_oid,
)

_PDU_CLASSES: dict[int, Any] = {
    0xA0: v2c.GetRequestPDU, 0xA1: v2c.GetNextRequestPDU, 0xA2: v2c.ResponsePDU, 0xA3: v2c.SetRequestPDU,
    0xA5: v2c.GetBulkRequestPDU, 0xA6: v2c.InformRequestPDU, 0xA7: v2c.SNMPv2TrapPDU, 0xA8: v2c.ReportPDU,
}
_PDU_TAGS = {cls.tagSet: tag for tag, cls in _PDU_CLASSES.items()}

_FROM_ASN1: dict[Any, Callable[[Any], Value]] = {
    rfc1902.Integer32.tagSet: int,
    rfc1902.OctetString.tagSet: lambda v: bytes(v.asOctets()),
    rfc1902.Null.tagSet: lambda v: NULL,
    rfc1902.ObjectIdentifier.tagSet: lambda v: ObjectId(format_oid(tuple(v))),
    rfc1902.IpAddress.tagSet: lambda v: IpAddress(".".join(map(str, v.asNumbers()))),
    rfc1902.Counter32.tagSet: lambda v: Counter32(int(v)),
    rfc1902.Gauge32.tagSet: lambda v: Gauge32(int(v)),
    rfc1902.TimeTicks.tagSet: lambda v: TimeTicks(int(v)),
    rfc1902.Opaque.tagSet: lambda v: Opaque(v.asOctets()),
    rfc1902.Counter64.tagSet: lambda v: Counter64(int(v)),
    rfc1905.NoSuchObject.tagSet: lambda v: NO_SUCH_OBJECT,
    rfc1905.NoSuchInstance.tagSet: lambda v: NO_SUCH_INSTANCE,
    rfc1905.EndOfMibView.tagSet: lambda v: END_OF_MIB_VIEW,
}

_SPECIALS = {NULL.tag: v2c.null, NO_SUCH_OBJECT.tag: rfc1905.noSuchObject,
             NO_SUCH_INSTANCE.tag: rfc1905.noSuchInstance, END_OF_MIB_VIEW.tag: rfc1905.endOfMibView}

_TO_ASN1: dict[type, Callable[[Any], Any]] = {
    int: rfc1902.Integer32,
    bytes: rfc1902.OctetString,
    str: lambda v: rfc1902.OctetString(v.encode()),
    Counter32: lambda v: rfc1902.Counter32(int(v)),
    Counter64: lambda v: rfc1902.Counter64(int(v)),
    Gauge32: lambda v: rfc1902.Gauge32(int(v)),
    TimeTicks: lambda v: rfc1902.TimeTicks(int(v)),
    IpAddress: lambda v: rfc1902.IpAddress(str(v)),
    ObjectId: lambda v: rfc1902.ObjectIdentifier(parse_oid(v)),
    Opaque: lambda v: rfc1902.Opaque(bytes(v)),
    Special: lambda v: _SPECIALS[v.tag],
}


def to_asn1(value: Value) -> Any:
    """A simulator value as the pyasn1 object pysnmp uses."""
    convert = _TO_ASN1.get(type(value))
    if convert is None:
        for kind in (int, bytes, str):
            if isinstance(value, kind):
                return _TO_ASN1[kind](value)
        raise TypeError(f"cannot encode {type(value).__name__}")
    return convert(value)


def from_asn1(value: Any) -> Value:
    """A pyasn1 value from a decoded message as a simulator value."""
    convert = _FROM_ASN1.get(value.tagSet)
    if convert is None:
        raise DecodeError(f"unsupported value type {type(value).__name__}")
    return convert(value)


def decode_message(data: bytes) -> Message:
    """Decode an SNMPv2c message with pysnmp/pyasn1."""
    try:
        if int(api.decodeMessageVersion(data)) != VERSION_2C:
            raise DecodeError("only SNMPv2c is served")
        msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
        pdu = v2c.apiMessage.get_pdu(msg)
        pdu_type = _PDU_TAGS.get(pdu.tagSet)
        if pdu_type is None:
            raise DecodeError("unsupported PDU")
        varbinds = [(tuple(oid), from_asn1(value)) for oid, value in v2c.apiPDU.get_varbinds(pdu)]
        return Message(
            version=int(v2c.apiMessage.get_version(msg)),
            community=bytes(v2c.apiMessage.get_community(msg).asOctets()),
            pdu_type=pdu_type,
            request_id=int(pdu.getComponentByPosition(0)),
            error_status=int(pdu.getComponentByPosition(1)),
            error_index=int(pdu.getComponentByPosition(2)),
            varbinds=varbinds,
        )
    except (PyAsn1Error, ProtocolError) as exc:
        raise DecodeError(str(exc)) from exc


def encode_message(msg: Message) -> bytes:
    """Encode a message with pysnmp/pyasn1."""
    pdu = _PDU_CLASSES[msg.pdu_type]()
    api_pdu = v2c.apiBulkPDU if msg.pdu_type == 0xA5 else v2c.apiPDU
    api_pdu.set_defaults(pdu)
    for position, value in enumerate((msg.request_id, msg.error_status, msg.error_index)):
        pdu.setComponentByPosition(position, value)
    v2c.apiPDU.set_varbinds(pdu, [(v2c.ObjectIdentifier(oid), to_asn1(value)) for oid, value in msg.varbinds])
    out = v2c.Message()
    v2c.apiMessage.set_defaults(out)
    v2c.apiMessage.set_version(out, msg.version)
    v2c.apiMessage.set_community(out, msg.community)
    v2c.apiMessage.set_pdu(out, pdu)
    return bytes(encoder.encode(out))
