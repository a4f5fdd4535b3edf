"""The reference codec: pysnmp's message layer (``pysnmp.proto.api.v2c``) and pyasn1's BER coder.

Slower than the fast codec (``collectors.snmp.ber``; about 1,500 requests/s per core for decode + encode), it is
selectable with ``codec: pysnmp`` and serves as the decoder of last resort for unusual encodings the fast one
refuses. Only the mapping of value types to pysnmp's classes is shared, by BER tag (``tag_of``, ``TAG_TYPES``).
"""

from __future__ import annotations

from typing import Any

from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error
from pysnmp.proto import api, rfc1902, rfc1905
from pysnmp.proto.api import v2c
from pysnmp.proto.error import ProtocolError

from collectors.sim.message import VERSION_2C, Codec, Message
from collectors.sim.smi import Value
from collectors.snmp.ber import SPECIAL_TAGS, TAG_TYPES, BerError, PduType, format_oid, parse_oid, tag_of
from collectors.snmp.values import Invalid, IpAddress, ObjectId, Special


def _ber_tag(asn1: Any) -> int:
    """The BER tag (one octet) of a pyasn1 type or value."""
    tag = asn1.tagSet[0]
    return int(tag.tagClass | tag.tagFormat | tag.tagId)


_PDU_CLASSES: dict[int, Any] = {_ber_tag(cls): cls for cls in (
    v2c.GetRequestPDU, v2c.GetNextRequestPDU, v2c.ResponsePDU, v2c.SetRequestPDU, v2c.GetBulkRequestPDU,
    v2c.InformRequestPDU, v2c.SNMPv2TrapPDU, v2c.ReportPDU)}
_VALUE_CLASSES: dict[int, Any] = {_ber_tag(cls): cls for cls in (
    rfc1902.Integer32, rfc1902.OctetString, rfc1902.Null, rfc1902.ObjectIdentifier, rfc1902.IpAddress,
    rfc1902.Counter32, rfc1902.Gauge32, rfc1902.TimeTicks, rfc1902.Opaque, rfc1902.Counter64,
    rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)}
"""pysnmp's classes by BER tag: the values of ``collectors.snmp.values`` map to them by ``tag_of``."""


def to_asn1(value: Value) -> Any:
    """A simulator value as the pyasn1 object pysnmp uses."""
    if isinstance(value, Invalid):
        raise BerError(f"cannot encode {value}")
    cls = _VALUE_CLASSES[tag_of(value)]
    if isinstance(value, Special):
        return cls("")
    if isinstance(value, ObjectId):
        return cls(parse_oid(value))
    if isinstance(value, IpAddress):
        return cls(str(value))
    if isinstance(value, str):
        return cls(value.encode())
    return cls(bytes(value) if isinstance(value, bytes) else int(value))


def from_asn1(value: Any) -> Value:
    """A pyasn1 value from a decoded message as a simulator value."""
    tag = _ber_tag(value)
    kind = TAG_TYPES.get(tag)
    if kind is None:
        if tag in SPECIAL_TAGS:
            return SPECIAL_TAGS[tag]
        raise BerError(f"unsupported value type {type(value).__name__}")
    if kind is ObjectId:
        return ObjectId(format_oid(value))
    if kind is IpAddress:
        return IpAddress(".".join(map(str, value.asNumbers())))
    return kind(value.asOctets()) if issubclass(kind, bytes) else kind(int(value))


def decode_message(data: bytes) -> Message:
    """Decode an SNMPv2c message with pysnmp/pyasn1."""
    try:
        if int(api.decodeMessageVersion(data)) != VERSION_2C:
            raise BerError("only SNMPv2c is served")
        msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
        pdu = v2c.apiMessage.get_pdu(msg)
        pdu_type = _ber_tag(pdu)
        if pdu_type not in _PDU_CLASSES:
            raise BerError("unsupported PDU")
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
        raise BerError(str(exc)) from exc


def encode_message(msg: Message) -> bytes:
    """Encode a message with pysnmp/pyasn1."""
    pdu = _PDU_CLASSES[msg.pdu_type]()
    api_pdu = v2c.apiBulkPDU if msg.pdu_type == PduType.GET_BULK else v2c.apiPDU
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


PYSNMP = Codec("pysnmp", decode_message, encode_message)
