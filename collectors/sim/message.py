"""An SNMP message as the simulator handles it, and the interface of its two codecs: ``FAST`` (here, on
:mod:`collectors.snmp.ber`) and ``pysnmp_codec.PYSNMP``. Both raise ``BerError`` on what they cannot decode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from collectors.sim.smi import VarBind
from collectors.snmp import ber


@dataclass(slots=True)
class Message:
    """One SNMP message. For GetBulk, ``error_status`` holds non-repeaters and ``error_index`` max-repetitions."""

    version: int
    community: bytes
    pdu_type: int
    request_id: int
    error_status: int = 0
    error_index: int = 0
    varbinds: list[VarBind] = field(default_factory=list)

    @property
    def non_repeaters(self) -> int:
        return self.error_status

    @property
    def max_repetitions(self) -> int:
        return self.error_index


@dataclass(frozen=True, slots=True)
class Codec:
    """A pair of functions turning datagrams into messages and back."""

    name: str
    decode: Callable[[bytes], Message]
    encode: Callable[[Message], bytes]


VERSION_1 = 0
VERSION_2C = 1


def decode_message(data: bytes) -> Message:
    """Parse a v1/v2c message (any PDU type) with ``collectors.snmp.ber``; OIDs as tuples of arcs."""
    version, community, pdu = ber.decode_community_message(data, ber.decode_oid_arcs)
    return Message(version, community, pdu.tag, pdu.request_id, pdu.error_status, pdu.error_index, pdu.varbinds)


def encode_message(msg: Message, varbinds: bytes | None = None) -> bytes:
    """A whole message; ``varbinds`` may carry already encoded variable bindings (``ber.encode_varbind``,
    concatenated)."""
    if varbinds is None:
        varbinds = b"".join([ber.encode_varbind(oid, value) for oid, value in msg.varbinds])
    varbind_list = ber.tlv(ber.TAG_SEQUENCE, varbinds)
    pdu = ber.encode_pdu(msg.pdu_type, msg.request_id, varbind_list, msg.error_status, msg.error_index)
    return ber.encode_community_message(msg.version, msg.community, pdu)


FAST = Codec("fast", decode_message, encode_message)
