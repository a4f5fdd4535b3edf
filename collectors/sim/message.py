"""An SNMPv2c message as plain data, and the interface both codecs (``ber`` and ``pysnmp_codec``) implement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from collectors.sim.smi import VarBind


class DecodeError(ValueError):
    """The datagram is not a well-formed SNMP message the simulator understands (it is dropped)."""


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
