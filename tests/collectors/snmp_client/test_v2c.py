"""SNMPv2c get, walk and set against a real net-snmp agent on loopback."""

from __future__ import annotations

import pickle

import pytest

from collectors.snmp.auth import V2c
from collectors.snmp.client import SnmpClient, SnmpResponseError, SnmpTimeout
from collectors.snmp.values import Counter32, Counter64, Gauge32, IpAddress, ObjectId, TimeTicks, Value
from tests.support.snmpd import BIG_OBJECTS, BIG_ROOT, COMMUNITY, RW_COMMUNITY, V3_SHA256, Agent

from .conftest import TooBigProxy, run, with_client

SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_CONTACT, SYS_LOCATION = (f"1.3.6.1.2.1.1.{i}.0" for i in (1, 2, 3, 4, 6))
IFX_TABLE = "1.3.6.1.2.1.31.1.1.1"


def parse_net_snmp(output: str) -> dict[str, tuple[str, Value]]:
    """``snmpbulkwalk -On`` lines → {oid: (net-snmp type name, value as noc types it)}."""
    result: dict[str, tuple[str, Value]] = {}
    for line in output.splitlines():
        oid, _, rest = line.partition(" = ")
        kind, _, text = rest.partition(": ")
        if rest == '""':
            kind, value = "STRING", b""
        elif kind == "STRING":
            value = text.strip('"').encode()
        elif kind == "Hex-STRING":
            value = bytes.fromhex(text)
        elif kind == "Timeticks":
            value = int(text.split(")")[0].lstrip("("))
        elif kind == "OID":
            value = text.lstrip(".")
        else:
            value = int(text)
        result[oid.lstrip(".")] = (kind, value)
    return result


NET_SNMP_TYPE = {
    "STRING": bytes,
    "Hex-STRING": bytes,
    "INTEGER": int,
    "Counter32": Counter32,
    "Counter64": Counter64,
    "Gauge32": Gauge32,
    "Timeticks": TimeTicks,
    "OID": ObjectId,
    "IpAddress": IpAddress,
}


def test_get_sysuptime_and_sysdescr(snmpd: Agent) -> None:
    got = run(with_client(lambda c: c.get(snmpd.target(), [SYS_UPTIME, "." + SYS_DESCR, SYS_OBJECT_ID])))
    assert set(got) == {SYS_UPTIME, SYS_DESCR, SYS_OBJECT_ID}
    assert type(got[SYS_UPTIME]) is TimeTicks and got[SYS_UPTIME] > 0
    expected = parse_net_snmp(snmpd.cli("snmpget", SYS_DESCR, SYS_OBJECT_ID).stdout)
    assert got[SYS_DESCR] == expected[SYS_DESCR][1]
    assert type(got[SYS_OBJECT_ID]) is ObjectId and got[SYS_OBJECT_ID] == expected[SYS_OBJECT_ID][1]


def test_get_leaves_out_missing_objects(snmpd: Agent) -> None:
    got = run(with_client(lambda c: c.get(snmpd.target(), [SYS_UPTIME, "1.3.6.1.2.1.1.3.1", "1.3.6.1.2.1.1.99.0"])))
    assert list(got) == [SYS_UPTIME]


def test_walk_of_ifxtable_matches_snmpbulkwalk(snmpd: Agent) -> None:
    reference = parse_net_snmp(snmpd.cli("snmpbulkwalk", IFX_TABLE).stdout)
    got = run(with_client(lambda c: c.walk(snmpd.target(), IFX_TABLE)))
    assert len(reference) >= 18
    assert list(got) == list(reference)  # same objects, same (OID) order
    for oid, (kind, value) in reference.items():
        assert type(got[oid]) is NET_SNMP_TYPE[kind], oid
        if kind in ("Counter32", "Counter64"):
            assert got[oid] >= value  # counters only move forward (walked after snmpbulkwalk)
        else:
            assert got[oid] == value, oid


def test_counter64_and_other_smi_types_are_preserved(snmpd: Agent) -> None:
    got = run(with_client(lambda c: c.walk(snmpd.target(), IFX_TABLE, max_repetitions=7)))
    columns = {int(oid.split(".")[10]): type(v) for oid, v in got.items()}
    assert columns[6] is Counter64 and columns[10] is Counter64  # ifHCInOctets, ifHCOutOctets
    assert columns[2] is Counter32 and columns[15] is Gauge32 and columns[19] is TimeTicks
    single = run(with_client(lambda c: c.get(snmpd.target(), ["1.3.6.1.2.1.31.1.1.1.6.1"])))
    assert type(single["1.3.6.1.2.1.31.1.1.1.6.1"]) is Counter64


def test_walk_of_empty_subtree_and_leaf(snmpd: Agent) -> None:
    async def both(c: SnmpClient) -> tuple[dict[str, Value], dict[str, Value]]:
        return await c.walk(snmpd.target(), "1.3.6.1.2.1.1.9999"), await c.walk(snmpd.target(), SYS_UPTIME)

    empty, leaf = run(with_client(both))
    assert empty == {} and leaf == {}


def test_walk_halves_max_repetitions_when_big_answers_are_dropped(snmpd: Agent) -> None:
    """snmpd drops answers above 64 kB instead of sending tooBig: the walk must shrink on retransmission."""

    async def walk(c: SnmpClient) -> dict[str, Value]:
        table = await c.walk(snmpd.target(timeout=0.4, retries=2), BIG_ROOT, max_repetitions=100)
        assert c.stats["timeout_backoffs"] >= 1 and c.stats["retries"] >= 1
        return table

    table = run(with_client(walk))
    assert len(table) == BIG_OBJECTS
    assert all(v == b"x" * 900 for v in table.values())


def test_walk_halves_max_repetitions_on_toobig(snmpd: Agent, toobig_proxy: TooBigProxy) -> None:
    target = snmpd.target()
    proxied = type(target)(target.host, toobig_proxy.port, target.credentials)

    async def walks(c: SnmpClient) -> tuple[dict[str, Value], int]:
        first = await c.walk(proxied, IFX_TABLE, max_repetitions=25)
        backoffs = c.stats["toobig_backoffs"]
        await c.walk(proxied, IFX_TABLE, max_repetitions=25)  # remembers the device's limit
        return first, backoffs

    table, backoffs = run(with_client(walks))
    assert list(table) == list(parse_net_snmp(snmpd.cli("snmpbulkwalk", IFX_TABLE).stdout))
    assert backoffs == 2
    assert toobig_proxy.seen_repetitions[:3] == [25, 12, 6]
    assert set(toobig_proxy.seen_repetitions[3:]) == {6}


def test_wrong_community_times_out(snmpd: Agent) -> None:
    target = snmpd.target(V2c("not-the-community"), timeout=0.2, retries=0)
    with pytest.raises(SnmpTimeout):
        run(with_client(lambda c: c.get(target, [SYS_UPTIME])))


def test_set_writes_syscontact(own_snmpd: Agent) -> None:
    contact = "noc@operator.example"

    async def set_and_read(c: SnmpClient) -> dict[str, Value]:
        await c.set(own_snmpd.target(V2c(RW_COMMUNITY)), [(SYS_CONTACT, contact)])
        return await c.get(own_snmpd.target(), [SYS_CONTACT])

    assert run(with_client(set_and_read)) == {SYS_CONTACT: contact.encode()}
    assert f'STRING: "{contact}"' in own_snmpd.cli("snmpget", SYS_CONTACT).stdout


def test_set_over_v3(own_snmpd: Agent) -> None:
    run(with_client(lambda c: c.set(own_snmpd.target(V3_SHA256), [(SYS_CONTACT, b"v3 ops desk")])))
    assert 'STRING: "v3 ops desk"' in own_snmpd.cli("snmpget", SYS_CONTACT).stdout


@pytest.mark.parametrize(
    ("community", "values", "status"),
    [
        (COMMUNITY, [(SYS_CONTACT, "x")], "noAccess"),  # read-only community
        (RW_COMMUNITY, [(SYS_UPTIME, TimeTicks(5))], "notWritable"),
        (RW_COMMUNITY, [(SYS_CONTACT, 5)], "wrongType"),
    ],
    ids=["read-only-community", "read-only-object", "wrong-type"],
)
def test_set_errors_carry_the_agents_status(
    own_snmpd: Agent, community: str, values: list[tuple[str, Value]], status: str
) -> None:
    with pytest.raises(SnmpResponseError) as info:
        run(with_client(lambda c: c.set(own_snmpd.target(V2c(community)), values)))
    assert info.value.status == status and info.value.index == 1
    assert info.value.oid == values[0][0]
    assert own_snmpd.address in str(info.value)
    copy = pickle.loads(pickle.dumps(info.value))  # e.g. raised in a worker process
    assert (str(copy), copy.status, copy.index, copy.address) == (str(info.value), status, 1, own_snmpd.address)
