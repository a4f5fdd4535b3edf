"""The agent side of SNMPv3 USM (RFC 3414) for simulated agents, on :mod:`collectors.snmp.usm`.

An agent with users has an engine ID (RFC 3411 format, derived from its name unless configured), counts its
boots from its restarts and its engine time from its uptime. It answers discovery and the other USM failures
with the reports a net-snmp agent sends (unknownEngineID, unknownUserName, unsupportedSecLevel, wrongDigest,
notInTimeWindow, decryptionError), and requests of its users at their security level exactly as over v2c,
sealed the same way (authenticated, encrypted for authPriv). Keys are localized once per user.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from collectors.sim.message import Message
from collectors.snmp import usm
from collectors.snmp.auth import V3
from collectors.snmp.ber import (
    TAG_SEQUENCE,
    BerError,
    PduType,
    decode_oid_arcs,
    decode_pdu,
    encode_pdu,
    encode_varbind,
    read_octets,
    tlv,
)
from collectors.snmp.ber import read_header as read_tlv
from collectors.snmp.values import Counter32

TIME_WINDOW = 150
"""Seconds a request's engine time may differ from the agent's (RFC 3414 3.2.7)."""
VERSION_3 = 3
_LEVELS = ("noAuthNoPriv", "authNoPriv", "authPriv")


def is_v3(datagram: bytes) -> bool:
    """Whether a datagram claims to be SNMPv3 (version INTEGER 3 right after the outer SEQUENCE header)."""
    if len(datagram) < 5 or datagram[0] != TAG_SEQUENCE:
        return False
    skip = 2 + (datagram[1] & 0x7F if datagram[1] & 0x80 else 0)
    return datagram[skip : skip + 3] == b"\x02\x01\x03"


def engine_id_for(name: str) -> bytes:
    """An RFC 3411 engine ID for an agent: net-snmp's enterprise (8072), format octets (5), 12 octets of the
    SHA-1 of its name."""
    return bytes.fromhex("80001f8805") + hashlib.sha1(name.encode()).digest()[:12]


@dataclass(frozen=True)
class Opened:
    """An authentic request of a user, ready to be answered: the PDU as the responder takes it."""

    request: Message
    msg_id: int
    level: str
    user: usm.Engine
    creds: V3


@dataclass
class AgentUsm:
    """USM of one agent: its engine ID, users with their localized keys, report counters."""

    engine_id: bytes
    users: dict[bytes, tuple[V3, usm.Engine]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(usm.REPORT_NAMES, 0))

    @classmethod
    def of(cls, engine_id: bytes, users: Sequence[V3]) -> AgentUsm:
        """Users' keys are checked and localized for ``engine_id`` now (ValueError for unusable ones)."""
        out = cls(engine_id)
        for creds in users:
            usm.check_credentials(creds)
            out.users[creds.user.encode()] = (creds, usm.Engine.discovered(creds, engine_id, 0, 0))
        return out

    def open(self, datagram: bytes, boots: int, engine_time: int) -> Opened | bytes | None:
        """The request to answer, a report to send back, or None to stay silent (not decodable)."""
        try:
            header = usm.read_header(datagram)
        except BerError:
            return None
        if header.engine_id != self.engine_id:  # discovery, or an old engine ID
            return self._report(header, usm.UNKNOWN_ENGINE_ID, boots, engine_time, self._plain_id(datagram, header))
        known = self.users.get(header.user)
        if known is None:
            return self._report(header, usm.UNKNOWN_USER_NAME, boots, engine_time, self._plain_id(datagram, header))
        creds, engine = known
        if _LEVELS.index(header.level) != _LEVELS.index(creds.level):
            return self._report(header, usm.UNSUPPORTED_SEC_LEVEL, boots, engine_time,
                                self._plain_id(datagram, header))
        try:
            message = usm.decode(datagram, creds, engine, header, decode_oid_arcs)
        except BerError as exc:
            report = usm.WRONG_DIGEST if "authentication" in str(exc) else usm.DECRYPTION_ERROR
            return self._report(header, report, boots, engine_time, 0)
        if creds.level != "noAuthNoPriv" and (header.boots != boots or abs(header.time - engine_time) > TIME_WINDOW):
            return self._report(header, usm.NOT_IN_TIME_WINDOW, boots, engine_time, message.pdu.request_id,
                                known)
        pdu = message.pdu
        request = Message(VERSION_3, b"", pdu.tag, pdu.request_id, pdu.error_status, pdu.error_index, pdu.varbinds)
        return Opened(request, header.msg_id, header.level, engine, creds)

    def seal(self, opened: Opened, pdu: bytes, boots: int, engine_time: int) -> bytes:
        """The response message carrying ``pdu`` at the request's security level."""
        return usm.encode_message(opened.creds, opened.user, opened.msg_id, pdu, boots, engine_time)

    def _plain_id(self, datagram: bytes, header: usm.Header) -> int:
        """The request-id of an unencrypted scoped PDU (0 when encrypted or unreadable)."""
        if header.flags & 2:
            return 0
        try:
            pos, _ = read_tlv(datagram, header.body, TAG_SEQUENCE)
            _, pos = read_octets(datagram, pos)
            _, pos = read_octets(datagram, pos)
            return decode_pdu(datagram, pos, decode_oid_arcs).request_id
        except (BerError, IndexError, ValueError):
            return 0

    def _report(self, header: usm.Header, oid: str, boots: int, engine_time: int, request_id: int,
                known: tuple[V3, usm.Engine] | None = None) -> bytes | None:
        """A Report PDU with the counter ``oid``; authenticated only for notInTimeWindow (``known`` user)."""
        self.counters[oid] += 1
        if not header.reportable:
            return None
        varbinds = tlv(TAG_SEQUENCE, encode_varbind(oid, Counter32(self.counters[oid])))
        pdu = encode_pdu(PduType.REPORT, request_id, varbinds)
        if known is not None:
            creds, engine = known
            return usm.encode_message(creds, engine, header.msg_id, pdu, boots, engine_time, priv=False)
        anonymous = V3(header.user.decode(errors="replace"))
        engine = usm.Engine(self.engine_id, boots, engine_time, 0.0, None, None)
        return usm.encode_message(anonymous, engine, header.msg_id, pdu, boots, engine_time, user=header.user)

