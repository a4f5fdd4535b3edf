"""GET, GETNEXT, GETBULK and SET semantics over real UDP, with net-snmp's tools as the client."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from collectors.sim import SimulatedNetwork
from collectors.sim.clock import Moment
from collectors.snmp.ber import format_oid
from tests.collectors.sim import netsnmp
from tests.collectors.sim.netsnmp import SnmpError

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
IF_HC_IN = "1.3.6.1.2.1.31.1.1.1.6"


def router(name: str, **extra: object) -> dict[str, object]:
    interfaces = [{"index": i, "name": f"ge-0/0/{i}", "speed_mbps": 1000, "inbound": {"kind": "flat", "peak": 0.3}}
                  for i in (1, 2, 3)]
    return {"kind": "router", "name": name, "sys_descr": "Simulated router with a rather long description text",
            "interfaces": interfaces, **extra}


@pytest.fixture(scope="module")
def net() -> Iterator[SimulatedNetwork]:
    config = {"agents": [router("r1", community="s3cret"), router("small", max_response_size=600),
                         router("strict", max_response_size=600, bulk_too_big=True)]}
    with SimulatedNetwork(config) as network:
        yield network


def test_get_returns_typed_values(net: SimulatedNetwork) -> None:
    descr, uptime, octets, speed = netsnmp.get(net.endpoint("r1"), SYS_DESCR, SYS_UPTIME, f"{IF_HC_IN}.1",
                                               "1.3.6.1.2.1.31.1.1.1.15.2")
    assert descr.value == b"Simulated router with a rather long description text"
    assert (uptime.type, octets.type, speed.type) == ("Timeticks", "Counter64", "Gauge32")
    assert octets.value > 0 and speed.value == 1000


def test_get_of_missing_objects_and_instances(net: SimulatedNetwork) -> None:
    missing = netsnmp.get(net.endpoint("r1"), "1.3.6.1.2.1.1.99.0", f"{IF_DESCR}.99", "1.3.6.1.2.1.1.3",
                          "1.3.6.1.4.1.99999.1.0")
    assert [v.type for v in missing] == ["noSuchObject", "noSuchInstance", "noSuchInstance", "noSuchObject"]


def test_getnext_and_end_of_mib(net: SimulatedNetwork) -> None:
    first, after_descr = netsnmp.getnext(net.endpoint("r1"), "1.3.6.1.2.1.1", f"{IF_DESCR}.3")
    assert (first.oid, first.value) == (SYS_DESCR, b"Simulated router with a rather long description text")
    assert (after_descr.oid, after_descr.value) == (f"{IF_TYPE}.1", 6)
    agent = net.agent("r1")
    last = format_oid(list(agent.mib.subtree(()))[-1])
    (end,) = netsnmp.getnext(net.endpoint("r1"), last)
    assert (end.oid, end.type) == (last, "endOfMibView")


def test_getbulk_with_non_repeaters_and_repetitions(net: SimulatedNetwork) -> None:
    varbinds = netsnmp.bulkget(net.endpoint("r1"), "1.3.6.1.2.1.1.3", IF_DESCR, IF_TYPE,
                               non_repeaters=1, max_repetitions=3)
    assert [v.oid for v in varbinds] == [SYS_UPTIME, f"{IF_DESCR}.1", f"{IF_TYPE}.1", f"{IF_DESCR}.2",
                                         f"{IF_TYPE}.2", f"{IF_DESCR}.3", f"{IF_TYPE}.3"]
    assert [v.value for v in varbinds[2::2]] == [6, 6, 6]


def test_getbulk_past_the_end_returns_end_of_mib_view(net: SimulatedNetwork) -> None:
    last = format_oid(list(net.agent("r1").mib.subtree(()))[-1])
    varbinds = netsnmp.bulkget(net.endpoint("r1"), last, max_repetitions=5)
    assert [v.type for v in varbinds] == ["endOfMibView"]


def test_walk_returns_the_whole_mib_in_order(net: SimulatedNetwork) -> None:
    agent = net.agent("r1")
    expected = [format_oid(oid) for oid in agent.mib.subtree(())]
    walked = netsnmp.walk(net.endpoint("r1"), ".1", max_repetitions=7)
    assert [v.oid for v in walked] == expected


def test_wrong_community_gets_no_answer(net: SimulatedNetwork) -> None:
    host, port, _ = net.endpoint("r1")
    dropped = net.agent("r1").stats.dropped
    with pytest.raises(SnmpError) as failure:
        netsnmp.get((host, port, "public"), SYS_UPTIME, timeout=0.3, retries=0)
    assert failure.value.reason == "timeout"
    assert net.agent("r1").stats.dropped == dropped + 1


def test_snmp_v1_gets_no_answer(net: SimulatedNetwork) -> None:
    host, port, community = net.endpoint("r1")
    done = subprocess.run(["snmpget", "-m", "", "-v1", "-c", community, "-t", "0.3", "-r", "0", f"{host}:{port}",
                           SYS_UPTIME], capture_output=True, text=True)
    assert "Timeout" in done.stdout + done.stderr


def test_set_of_read_only_and_missing_objects_fails(net: SimulatedNetwork) -> None:
    with pytest.raises(SnmpError) as read_only:
        netsnmp.set_(net.endpoint("r1"), "1.3.6.1.2.1.1.5.0", "s", "renamed")
    assert read_only.value.reason == "notWritable"
    with pytest.raises(SnmpError) as missing:
        netsnmp.set_(net.endpoint("r1"), "1.3.6.1.4.1.99999.1.0", "i", "1")
    assert missing.value.reason == "noCreation"
    assert netsnmp.get_values(net.endpoint("r1"), "1.3.6.1.2.1.1.5.0") == [b"r1"]


def test_oversized_get_answers_too_big(net: SimulatedNetwork) -> None:
    with pytest.raises(SnmpError) as failure:
        netsnmp.get(net.endpoint("small"), *[SYS_DESCR] * 20)
    assert failure.value.reason == "tooBig"
    assert len(netsnmp.get(net.endpoint("small"), *[SYS_DESCR] * 5)) == 5


def test_oversized_getbulk_is_truncated_to_whole_rows(net: SimulatedNetwork) -> None:
    varbinds = netsnmp.bulkget(net.endpoint("small"), IF_DESCR, IF_TYPE, max_repetitions=200)
    assert 2 < len(varbinds) < 200 and len(varbinds) % 2 == 0
    assert [v.oid for v in varbinds[:2]] == [f"{IF_DESCR}.1", f"{IF_TYPE}.1"]


def test_oversized_getbulk_answers_too_big_when_configured(net: SimulatedNetwork) -> None:
    with pytest.raises(SnmpError) as failure:
        netsnmp.bulkget(net.endpoint("strict"), IF_DESCR, max_repetitions=200)
    assert failure.value.reason == "tooBig"
    assert len(netsnmp.bulkget(net.endpoint("strict"), IF_DESCR, max_repetitions=5)) == 5


def test_all_values_of_one_response_share_one_moment(net: SimulatedNetwork) -> None:
    agent = net.agent("r1")
    seen: list[Moment] = []
    original = agent.moment

    def spy() -> Moment:
        seen.append(original())
        return seen[-1]

    net.call(setattr, agent, "moment", spy)
    try:
        netsnmp.get(net.endpoint("r1"), SYS_UPTIME, f"{IF_HC_IN}.1", f"{IF_HC_IN}.2")
    finally:
        net.call(setattr, agent, "moment", original)
    assert len(seen) == 1
