"""Request → response: GET, GETNEXT, GETBULK and SET semantics of RFC 3416, size limits and tooBig.

``answer(agent, datagram, codec)`` is pure (no I/O), so it is used alike by the UDP transport, the tests and the
in-process benchmark. Anything not to be answered (bad BER, SNMPv1, wrong community, offline agent,
non-request PDU; SNMPv3 to an agent without users) yields None: the agent stays silent, as real agents do.
Agents with SNMPv3 users answer v3 through :mod:`collectors.sim.usm_agent` (USM reports included).
"""

from __future__ import annotations

import logging

from collectors.sim.agent import Agent, GoSilent
from collectors.sim.clock import Moment
from collectors.sim.message import FAST, VERSION_2C, Codec, Message, decode_message, encode_message
from collectors.sim.pysnmp_codec import PYSNMP
from collectors.sim.smi import Oid, Value, VarBind
from collectors.sim.usm_agent import AgentUsm, Opened, is_v3
from collectors.snmp.ber import (
    TAG_SEQUENCE,
    BerError,
    ErrorStatus,
    PduType,
    encode_pdu,
    encode_varbind,
    encode_varbinds,
    tlv,
)
from collectors.snmp.values import END_OF_MIB_VIEW

log = logging.getLogger(__name__)

CODECS = {codec.name: codec for codec in (FAST, PYSNMP)}

LENGTH_SLACK = 6
"""Extra octets the three enclosing lengths (message, PDU, varbind list) can grow by up to 64 KiB."""


def _next(agent: Agent, oid: Oid, moment: Moment) -> VarBind:
    found = agent.mib.next(oid, moment)
    return found if found is not None else (oid, END_OF_MIB_VIEW)


def _bulk(agent: Agent, request: Message, moment: Moment, budget: int) -> tuple[list[bytes], bool]:
    """Encoded GETBULK variable bindings within ``budget`` octets (whole repetitions only) and whether any
    were left out."""
    varbinds = request.varbinds
    n = min(max(request.non_repeaters, 0), len(varbinds))
    repetitions = max(request.max_repetitions, 0)
    out: list[bytes] = []
    size = 0
    for oid, _ in varbinds[:n]:
        encoded = encode_varbind(*_next(agent, oid, moment))
        size += len(encoded)
        if size > budget:
            return out, True
        out.append(encoded)
    cursors = [oid for oid, _ in varbinds[n:]]
    if not cursors:
        return out, False
    for _ in range(repetitions):
        row: list[bytes] = []
        ended = True
        for j, cursor in enumerate(cursors):
            found = agent.mib.next(cursor, moment)
            if found is None:
                encoded = encode_varbind(cursor, END_OF_MIB_VIEW)
            else:
                ended = False
                cursors[j] = found[0]
                encoded = encode_varbind(*found)
            size += len(encoded)
            if size > budget:
                return out, True
            row.append(encoded)
        out.extend(row)
        if ended:
            break
    return out, False


def _too_big(request: Message) -> Message:
    return Message(VERSION_2C, request.community, PduType.RESPONSE, request.request_id, ErrorStatus.TOO_BIG, 0, [])


def response_varbinds(agent: Agent, request: Message, moment: Moment, budget: int) -> tuple[int, int, bytes] | None:
    """(error-status, error-index, encoded variable bindings) of the response to ``request``, or None when the
    PDU is not a request. GETBULK keeps within ``budget`` octets (whole repetitions, or tooBig); other
    responses are checked against the agent's size limit by the caller, once encoded."""
    pdu = request.pdu_type
    if pdu == PduType.GET_BULK:
        encoded, overflow = _bulk(agent, request, moment, budget)
        if (overflow and agent.bulk_too_big) or (overflow and not encoded):
            return ErrorStatus.TOO_BIG, 0, b""
        return ErrorStatus.NO_ERROR, 0, b"".join(encoded)
    status, index = ErrorStatus.NO_ERROR, 0
    varbinds: list[tuple[Oid, Value]]
    if pdu == PduType.GET:
        varbinds = [(oid, agent.mib.get(oid, moment)) for oid, _ in request.varbinds]
    elif pdu == PduType.GET_NEXT:
        varbinds = [_next(agent, oid, moment) for oid, _ in request.varbinds]
    elif pdu == PduType.SET:
        try:
            status, index = agent.set(request.varbinds, moment)
        except GoSilent:
            agent.online = False
            return None
        varbinds = request.varbinds
    else:
        return None
    return status, index, b"".join([encode_varbind(oid, value) for oid, value in varbinds])


def respond(agent: Agent, request: Message, moment: Moment, codec: Codec = FAST) -> bytes | None:
    """The encoded response to a decoded request (already checked for version and community)."""
    limit = agent.max_response_size
    empty = Message(VERSION_2C, request.community, PduType.RESPONSE, request.request_id)
    outcome = response_varbinds(agent, request, moment, limit - len(encode_message(empty, b"")) - LENGTH_SLACK)
    if outcome is None:
        return None
    empty.error_status, empty.error_index, encoded = outcome
    if codec is FAST:
        data = encode_message(empty, encoded)
    else:
        empty.varbinds = decode_message(encode_message(empty, encoded)).varbinds
        data = codec.encode(empty)
    if len(data) > limit:
        return codec.encode(_too_big(request))
    return data


def answer(agent: Agent, datagram: bytes, codec: Codec = FAST) -> bytes | None:
    """Decode, check and answer one datagram; None means stay silent."""
    agent.stats.requests += 1
    if agent.usm is not None and is_v3(datagram):
        return _answer_v3(agent, agent.usm, datagram)
    try:
        try:
            request = codec.decode(datagram)
        except BerError:
            if codec is not FAST:
                raise
            request = PYSNMP.decode(datagram)  # unusual but valid BER (e.g. long-form lengths pyasn1 accepts)
    except BerError:
        agent.stats.dropped += 1
        return None
    if request.version != VERSION_2C or request.community != agent.community:
        agent.stats.dropped += 1
        return None
    moment = agent.moment()
    if not agent.answering(moment):
        agent.stats.dropped += 1
        return None
    try:
        data = respond(agent, request, moment, codec)
    except Exception:  # a bug in a dynamic value must not kill the agent; answer genErr like real agents do
        log.exception("agent %s failed on request %s", agent.name, request.request_id)
        agent.stats.errors += 1
        data = codec.encode(Message(VERSION_2C, request.community, PduType.RESPONSE, request.request_id,
                                    ErrorStatus.GEN_ERR, 1 if request.varbinds else 0, request.varbinds))
    return _counted(agent, data)


def _counted(agent: Agent, data: bytes | None) -> bytes | None:
    if data is None:
        agent.stats.dropped += 1
    else:
        agent.stats.answered += 1
    return data


V3_OVERHEAD = 256
"""Octets an SNMPv3 authPriv message adds around the variable bindings, at most (header, USM parameters with
a 48-octet MAC, scoped PDU with the engine ID, cipher padding)."""


def _answer_v3(agent: Agent, agent_usm: AgentUsm, datagram: bytes) -> bytes | None:
    """An SNMPv3 request: USM checks (reports for unknown engine ID, user, digest, level, time window), then
    the same answer as over v2c, sealed at the request's security level."""
    moment = agent.moment()
    if not agent.answering(moment):
        agent.stats.dropped += 1
        return None
    clock = moment.epoch + 1, int(moment.uptime)
    opened = agent_usm.open(datagram, *clock)
    if not isinstance(opened, Opened):
        return _counted(agent, opened)
    request = opened.request
    limit = agent.max_response_size
    try:
        outcome = response_varbinds(agent, request, moment, limit - V3_OVERHEAD)
    except Exception:  # as over v2c: a bug in a dynamic value answers genErr
        log.exception("agent %s failed on request %s", agent.name, request.request_id)
        agent.stats.errors += 1
        outcome = ErrorStatus.GEN_ERR, 1 if request.varbinds else 0, encode_varbinds(request.varbinds)
    if outcome is None:
        return _counted(agent, None)
    status, index, encoded = outcome
    data = agent_usm.seal(opened, encode_pdu(PduType.RESPONSE, request.request_id, tlv(TAG_SEQUENCE, encoded),
                                             status, index), *clock)
    if len(data) > limit:
        data = agent_usm.seal(opened, encode_pdu(PduType.RESPONSE, request.request_id, tlv(TAG_SEQUENCE, b""),
                                                 ErrorStatus.TOO_BIG, 0), *clock)
    return _counted(agent, data)
