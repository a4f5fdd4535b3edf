"""Hostile or broken agents: values out of range, over-long OIDs, endless walks. Each is a raw UDP agent on
loopback (tests/support/hostile.py); the healthy peer is the real snmpd."""

from __future__ import annotations

import asyncio
import logging
import os
import time

import pytest

from collectors.snmp.ber import decode_oid_arcs
from collectors.snmp.client import (
    SnmpClient,
    SnmpDeadlineError,
    SnmpError,
    SnmpLimitError,
    SnmpMalformedResponse,
)
from collectors.snmp.counters import RateTracker
from collectors.snmp.profiles import Profile, Samples, decode, load_profile
from collectors.snmp.values import Invalid, Value
from tests.support.hostile import (
    BAD_VALUES,
    END_OF_MIB_VIEW,
    HC_IN,
    ScriptedAgent,
    hostile_interfaces,
    mib_answer,
    oid_tlv,
    subid,
    v2c_request,
    v2c_response,
    varbind,
)
from tests.support.snmpd import Agent

from .conftest import run, with_client

IF_MIB = load_profile("if-mib")
async def poll(client: SnmpClient, agent: Agent | ScriptedAgent, profile: Profile, tracker: RateTracker) -> Samples:
    """What a poller does with a profile: GET the scalars, walk every column, decode with rates."""
    target = agent.target(timeout=1, retries=1)
    results: dict[str, Value] = dict(await client.get(target, profile.get_oids))
    for root in profile.walk_roots:
        results |= await client.walk(target, root)
    return decode(profile, f"dev-{agent.port}", results, time.time(), rates=tracker)


def test_values_out_of_range_are_invalid_readings_and_cost_no_other_device_its_result(
    snmpd: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    tracker = RateTracker()
    with ScriptedAgent(mib_answer("hostile-Qm4-community", hostile_interfaces())) as hostile:

        async def cycle(c: SnmpClient) -> list[Samples]:
            return list(await asyncio.gather(poll(c, hostile, IF_MIB, tracker), poll(c, snmpd, IF_MIB, tracker)))

        with caplog.at_level(logging.WARNING, logger="collectors.snmp.profiles"):
            (bad, good), (bad_again, _) = run(with_client(cycle)), run(with_client(cycle))

    expected = {("sysUpTime", ""), *(("ifHCInOctets", str(row)) for row in BAD_VALUES)}
    assert {(r.object, r.index) for r in bad.invalid} == expected
    rows = {s.tag("ifindex"): s.fields for s in bad if s.measurement == "interface"}
    assert rows["1"]["in_octets"] == 1000
    again = {s.tag("ifindex"): s.fields for s in bad_again if s.measurement == "interface"}
    assert again["1"]["in_bps"] == 0.0 and "in_bps" not in again["2"]
    for row in BAD_VALUES:
        assert "in_octets" not in rows[str(row)] and rows[str(row)]["out_octets"] == 5
    assert "uptime_s" not in next(s for s in bad if s.measurement == "system").fields
    assert bad_again.invalid == bad.invalid
    assert not good.invalid and any(s.measurement == "interface" for s in good)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2, warnings  # once per device and object: sysUpTime, ifHCInOctets
    assert all(f"dev-{hostile.port}" in w for w in warnings)


def test_ber_level_invalid_values_reach_the_caller_and_the_walk_goes_on() -> None:
    with ScriptedAgent(mib_answer("hostile-Qm4-community", hostile_interfaces())) as hostile:
        column = run(with_client(lambda c: c.walk(hostile.target(timeout=1), ".".join(map(str, HC_IN)))))
    got = {oid.rsplit(".", 1)[1]: v for oid, v in column.items()}
    assert got["1"] == 1000 and got["4"] == -1000
    assert got["2"] == Invalid("Counter64", "9-octet value outside the range 0..2**64-1")
    assert got["3"] == Invalid("Counter32", "5-octet value outside the range 0..2**32-1")


def bad_oid_answer(arcs_or_body: tuple[int, ...] | bytes) -> ScriptedAgent:
    """An agent answering every GET with one varbind named by a bad OID."""

    def answer(data: bytes) -> list[bytes]:
        rid = v2c_request(data).request_id
        name = oid_tlv(arcs_or_body) if isinstance(arcs_or_body, tuple) else arcs_or_body
        return [v2c_response("hostile-Qm4-community", rid, [varbind(name, b"\x05\x00")])]

    return ScriptedAgent(answer)


@pytest.mark.parametrize(
    "name",
    [
        (1, 3, 6, 1, 2**40),
        (1, 3, 6, 1, 2**64 + 5),
        (1, 3, *range(127)),  # 129 sub-identifiers
        b"\x06\x83\x00\xfd\xe9" + b"\xff" * 65_000 + b"\x7f",  # one 65 KB sub-identifier
    ],
    ids=["2**40", "2**64+5", "129-arcs", "64KB"],
)
def test_answers_naming_bad_oids_are_dropped_as_malformed(name: tuple[int, ...] | bytes) -> None:
    with bad_oid_answer(name) as hostile:

        async def get(c: SnmpClient) -> None:
            start = time.process_time()
            with pytest.raises(SnmpMalformedResponse, match="OBJECT IDENTIFIER") as err:
                await c.get(hostile.target(timeout=0.3, retries=1), ["1.3.6.1.2.1.1.3.0"])
            assert c.stats["malformed"] == 2 and c.stats["timeouts"] == 1
            assert time.process_time() - start < 0.5  # CPU: decoding the hostile answers costs next to nothing
            assert str(err.value).startswith(f"{hostile.host}:{hostile.port}: ")

        run(with_client(get))


def test_client_memory_stays_flat_under_a_flood_of_distinct_long_oids() -> None:
    """Walks answered with ever new ~600-octet OIDs (125 sub-identifiers): the client's caches stay bounded."""
    root = (1, 3, 6, 1, 4, 1, 99999)
    prefix = oid_tlv((*root, *[2**32 - 1] * 117))[4:]  # the content octets shared by every OID
    served = [0]

    def answer(data: bytes) -> list[bytes]:
        pdu = v2c_request(data)
        out = []
        for _ in range(pdu.error_index):
            served[0] += 1
            body = prefix + subid(served[0] // 2**28) + subid(served[0] % 2**28)
            out.append(varbind(b"\x06\x82" + len(body).to_bytes(2, "big") + body, b"\x41\x01\x01"))
            if served[0] % 2000 == 0:
                out.append(varbind(oid_tlv((1, 3, 6, 1, 4, 1, 100000)), END_OF_MIB_VIEW))
                break
        return [v2c_response("hostile-Qm4-community", pdu.request_id, out)]

    async def flood(c: SnmpClient) -> list[float]:
        target = hostile.target(timeout=2, retries=1)
        sizes = []
        for _ in range(20):  # 20 walks of 2,000 distinct OIDs: ~2.6 kB each if every one were kept
            table = await c.walk(target, ".".join(map(str, root)), max_repetitions=40)
            assert len(table) == 2000
            del table
            sizes.append(rss_mib())
        return sizes

    with ScriptedAgent(answer) as hostile:
        sizes = run(with_client(flood))
    growth = max(sizes) - sizes[2]
    assert growth < 48, f"client RSS (MiB) after each walk: {[round(s, 1) for s in sizes]}"


def rss_mib() -> float:
    """This process's resident memory."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


ENDLESS_ROOT = (1, 3, 6, 1, 4, 1, 99999, 1)


def endless_walk(delay: float = 0.0) -> ScriptedAgent:
    """An agent whose table never ends: every GETBULK gets max-repetitions ever higher OIDs in the subtree,
    each answer after ``delay`` seconds."""

    def answer(data: bytes) -> list[bytes]:
        pdu = v2c_request(data)
        asked = decode_oid_arcs(pdu.varbinds[0][0])
        last = asked[len(ENDLESS_ROOT)] if len(asked) > len(ENDLESS_ROOT) else 0
        names = range(last + 1, last + 1 + pdu.error_index)
        out = [varbind(oid_tlv((*ENDLESS_ROOT, n)), b"\x41\x01\x01") for n in names]
        time.sleep(delay)
        return [v2c_response("hostile-Qm4-community", pdu.request_id, out)]

    return ScriptedAgent(answer)


def test_a_walk_that_never_ends_stops_at_max_rows_naming_the_table(snmpd: Agent) -> None:
    with endless_walk() as hostile:

        async def cycle(c: SnmpClient) -> list[object]:
            endless = c.walk(hostile.target(timeout=1), ".".join(map(str, ENDLESS_ROOT)), max_rows=1000, table="ports")
            healthy = c.walk(snmpd.target(), "1.3.6.1.2.1.2.2.1.2", max_rows=1000, table="interfaces")
            results = await asyncio.gather(endless, healthy, return_exceptions=True)
            assert c.stats["limits"] == 1
            return results

        (error, table) = run(with_client(cycle))
    assert isinstance(error, SnmpLimitError)
    assert str(error) == f"{hostile.host}:{hostile.port}: walk of table ports (1.3.6.1.4.1.99999.1) stopped: " \
        "more than max_rows=1000 rows"
    assert len(hostile.received) == 41  # 1,000 rows at 25 per GETBULK, and the one that went past
    assert isinstance(table, dict) and table


def test_the_poll_deadline_ends_an_endless_walk_and_the_next_request() -> None:
    with endless_walk(delay=0.02) as hostile:

        async def poll(c: SnmpClient) -> tuple[SnmpDeadlineError, SnmpDeadlineError, float]:
            target = hostile.target(timeout=1)
            start = time.monotonic()
            deadline = start + 0.5
            with pytest.raises(SnmpDeadlineError) as walk:
                await c.walk(target, ".".join(map(str, ENDLESS_ROOT)), deadline=deadline, table="ports")
            elapsed = time.monotonic() - start
            sent = len(hostile.received)
            with pytest.raises(SnmpDeadlineError) as get:
                await c.get(target, ["1.3.6.1.2.1.1.3.0"], deadline=deadline)
            assert len(hostile.received) == sent  # nothing is sent once the deadline has passed
            assert c.in_flight == 0
            return walk.value, get.value, elapsed

        walk, get, elapsed = run(with_client(poll))
    assert str(walk).endswith(": poll deadline reached while walking table ports (1.3.6.1.4.1.99999.1)")
    assert str(get).endswith(": poll deadline reached while reading scalars")
    assert isinstance(walk, SnmpLimitError) and isinstance(walk, SnmpError)
    assert elapsed < 10  # ended by the deadline (0.5 s), not by the agent
