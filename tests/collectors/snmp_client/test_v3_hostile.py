"""SNMPv3 answers a client must not take: failed MACs, answers below the request's security level, spoofed or
unmatched reports, malformed datagrams. A relay on loopback stands between the client and the real snmpd and
rewrites what snmpd answers (tests/support/hostile.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from collectors.snmp import usm
from collectors.snmp.auth import V3
from collectors.snmp.ber import (
    REPORT,
    RESPONSE,
    BerError,
    encode_community_message,
    encode_pdu,
    encode_varbinds,
    peek_message_id,
)
from collectors.snmp.client import SnmpClient, SnmpMalformedResponse
from collectors.snmp.values import Counter32
from tests.support.hostile import ScriptedAgent, mac_span
from tests.support.snmpd import V3_MATRIX, Agent

from .conftest import run, with_client

SYS_UPTIME, SYS_DESCR = "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.1.0"
AUTH_PRIV = V3_MATRIX["SHA256", "AES"]
FAKE_ENGINE = bytes.fromhex("80001f8804" + "66616b65")


class V3Relay(ScriptedAgent):
    """Relays to ``agent``; ``rewrite(request, answer)`` turns each snmpd answer into what the client gets. The
    relay learns the agent's engine ID from the discovery report."""

    def __init__(self, agent: Agent, rewrite: Callable[[V3Relay, bytes, bytes], list[bytes]]) -> None:
        self.engine_id = b""
        self.rewrite = rewrite
        self.agent = agent
        super().__init__(self._relay)

    def _relay(self, request: bytes) -> list[bytes]:
        answer = self.forward(request, (self.agent.host, self.agent.port))
        if answer is None:
            return []
        msg = usm.decode(answer, AUTH_PRIV, None) if not self.engine_id else None
        if msg is not None and msg.pdu.tag == REPORT:
            self.engine_id = msg.engine_id
            return [answer]
        return self.rewrite(self, request, answer)

    def engine(self, creds: V3) -> usm.Engine:
        """The agent's engine as ``creds`` see it (keys localized)."""
        return usm.Engine.discovered(creds, self.engine_id, 0, 0)


def reencoded(relay: V3Relay, answer: bytes, creds: V3) -> bytes:
    """snmpd's answer decrypted, then sent again at the security level of ``creds`` (same user, same keys)."""
    msg = usm.decode(answer, AUTH_PRIV, relay.engine(AUTH_PRIV))
    pdu = encode_pdu(RESPONSE, msg.pdu.request_id, encode_varbinds(msg.pdu.varbinds))
    engine = relay.engine(creds)
    engine.resync(msg.boots, msg.time)
    return usm.encode_request(creds, engine, msg.msg_id, pdu)


def report(msg_id: int, oid: str, engine_id: bytes, boots: int = 7, engine_time: int = 99) -> bytes:
    """An unauthenticated Report PDU (usmStats counter ``oid``) claiming ``engine_id``, boots and time."""
    pdu = encode_pdu(REPORT, msg_id, encode_varbinds([(oid, Counter32(1))]))
    engine = usm.Engine(engine_id, boots, engine_time, time.monotonic(), None, None)
    return usm.encode_request(V3(AUTH_PRIV.user), engine, msg_id, pdu)


def rejected(snmpd: Agent, rewrite: Callable[[V3Relay, bytes, bytes], list[bytes]]) -> tuple[str, dict[str, int]]:
    """The error of a GET through a relay applying ``rewrite``, and the client's stats."""
    with V3Relay(snmpd, rewrite) as relay:

        async def get(c: SnmpClient) -> tuple[str, dict[str, int]]:
            with pytest.raises(SnmpMalformedResponse) as err:
                await c.get(relay.target(AUTH_PRIV, timeout=0.3, retries=1), [SYS_UPTIME])
            return str(err.value), dict(c.stats)

        return run(with_client(get))


def polled(snmpd: Agent, rewrite: Callable[[V3Relay, bytes, bytes], list[bytes]], polls: int = 1) -> dict[str, int]:
    """The client's stats after ``polls`` GETs through a relay applying ``rewrite``, each of which must succeed."""
    with V3Relay(snmpd, rewrite) as relay:

        async def get(c: SnmpClient) -> dict[str, int]:
            target = relay.target(AUTH_PRIV, timeout=1, retries=0)
            for _ in range(polls):
                assert SYS_DESCR in await c.get(target, [SYS_DESCR])
            return dict(c.stats)

        return run(with_client(get))


def test_an_answer_whose_mac_fails_is_dropped(snmpd: Agent) -> None:
    def flip_mac(relay: V3Relay, request: bytes, answer: bytes) -> list[bytes]:
        start, _ = mac_span(answer)
        return [answer[:start] + bytes((answer[start] ^ 1,)) + answer[start + 1 :]]

    error, stats = rejected(snmpd, flip_mac)
    assert error.endswith("the last answer was dropped: authentication failed")
    assert (stats["malformed"], stats["timeouts"], stats["responses"]) == (2, 1, 0)


@pytest.mark.parametrize(
    "level", [V3(AUTH_PRIV.user), V3(AUTH_PRIV.user, AUTH_PRIV.auth_proto, AUTH_PRIV.auth_key)],
    ids=["noAuthNoPriv", "authNoPriv"],
)  # fmt: skip
def test_an_answer_below_the_requests_security_level_is_dropped(snmpd: Agent, level: V3) -> None:
    """The agent's real answer, decrypted and sent again unauthenticated, or authenticated but in clear."""
    error, stats = rejected(snmpd, lambda relay, request, answer: [reencoded(relay, answer, level)])
    assert error.endswith("the last answer was dropped: answer below the request's security level authPriv")
    assert stats["malformed"] == 2 and stats["responses"] == 0


def test_a_relay_that_passes_answers_on_changes_nothing(snmpd: Agent) -> None:
    """The relay itself is transparent (the tests above fail because of what they change)."""
    assert polled(snmpd, lambda relay, request, answer: [reencoded(relay, answer, AUTH_PRIV)])["malformed"] == 0


def test_spoofed_and_unmatched_reports_change_nothing(snmpd: Agent) -> None:
    """RFC 3414 3.2: an unauthenticated report may re-synchronise only when it answers an outstanding request of
    this client, from the address that request went to. Each request here is preceded by an "unknownEngineID"
    report with a made-up engine ID, boots and time from another port (the right msgID), and one from the
    right address with a msgID that is not outstanding."""

    def spoof_first(relay: V3Relay, request: bytes, answer: bytes) -> list[bytes]:
        msg_id = peek_message_id(request)
        relay.send_from_elsewhere(report(msg_id, usm.UNKNOWN_ENGINE_ID, FAKE_ENGINE, boots=2**20))
        return [report(msg_id + 1, usm.NOT_IN_TIME_WINDOW, FAKE_ENGINE), answer]

    stats = polled(snmpd, spoof_first, polls=3)
    assert (stats["wrong_source"], stats["unmatched"]) == (3, 3)
    assert (stats["v3_discoveries"], stats["v3_resyncs"], stats["responses"]) == (1, 0, 3)  # the engine held


def test_a_report_answering_the_request_from_its_target_re_synchronises(snmpd: Agent) -> None:
    """The positive case: the first answer replaced by an unauthenticated unknownEngineID report with another
    engine ID is taken (RFC 3414 4: that is how discovery works); the agent's own report then puts it right."""
    replaced: list[int] = []

    def replace_first(relay: V3Relay, request: bytes, answer: bytes) -> list[bytes]:
        if replaced:
            return [answer]
        replaced.append(peek_message_id(request))
        return [report(replaced[0], usm.UNKNOWN_ENGINE_ID, FAKE_ENGINE)]

    stats = polled(snmpd, replace_first)
    assert (stats["v3_discoveries"], stats["v3_resyncs"], stats["responses"]) == (1, 2, 1)


def test_malformed_datagrams_before_the_answer_are_ignored_and_counted(snmpd: Agent) -> None:
    def garbage_first(relay: V3Relay, request: bytes, answer: bytes) -> list[bytes]:
        start, _ = mac_span(answer)
        return [b"junk", answer[:40], answer[: start - 1], b"\x30\x03\x02\x01\x03", answer]

    stats = polled(snmpd, garbage_first)
    assert (stats["malformed"], stats["responses"], stats["timeouts"]) == (4, 1, 0)


def _authpriv_message() -> tuple[bytes, usm.Engine]:
    engine = usm.Engine.discovered(AUTH_PRIV, FAKE_ENGINE, 3, 4)
    pdu = encode_pdu(RESPONSE, 11, encode_varbinds([(SYS_DESCR, b"x")]))
    return usm.encode_request(AUTH_PRIV, engine, 11, pdu), engine


@pytest.mark.parametrize(
    ("mutate", "creds", "error"),
    [
        (lambda m: encode_community_message(1, b"c", encode_pdu(RESPONSE, 11, b"\x30\x00")), AUTH_PRIV, "not SNMPv3"),
        (lambda m: m.replace(b"\x04\x01\x07\x02\x01\x03", b"\x04\x01\x07\x02\x01\x04", 1), AUTH_PRIV, "not a USM"),
        (lambda m: m, V3(AUTH_PRIV.user, "SHA", AUTH_PRIV.auth_key, "AES", AUTH_PRIV.priv_key), "bad MAC length"),
        (lambda m: m, V3(AUTH_PRIV.user, AUTH_PRIV.auth_proto, AUTH_PRIV.auth_key), "cannot decrypt"),
        (lambda m: m[:-3], AUTH_PRIV, "truncated"),
    ],
    ids=["v1-v2c", "security-model", "mac-length", "priv-without-key", "truncated"],
)
def test_usm_refuses_what_it_cannot_check(mutate: Callable[[bytes], bytes], creds: V3, error: str) -> None:
    message, engine = _authpriv_message()
    assert usm.decode(message, AUTH_PRIV, engine).pdu.varbinds == [(SYS_DESCR, b"x")]
    keys = usm.Engine.discovered(creds, FAKE_ENGINE, 3, 4)
    with pytest.raises(BerError, match=error):
        usm.decode(mutate(message), creds, keys)
