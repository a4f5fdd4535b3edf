"""Multi-column walks: several columns per GETBULK, each stopping at its own end, give what walking each column
alone gives, in few requests: against the simulator's DOCSIS modems and gateways and a real net-snmp agent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.sim import SimulatedNetwork
from collectors.sim.config import ModemConfig, NetworkConfig
from collectors.snmp import device_poll
from collectors.snmp.auth import Target, V2c
from collectors.snmp.client import SnmpClient
from collectors.snmp.device_poll import PollTarget, pack, poll, profile, read_raw
from collectors.snmp.errors import SnmpDeadlineError, SnmpError, SnmpLimitError
from collectors.snmp.profiles import TablePlan, load_profile
from collectors.snmp.values import Value
from tests.support.hostile import HC_OUT, IF_TYPE, ScriptedAgent, endless_columns, hostile_interfaces, mib_answer
from tests.support.snmpd import Agent

HOSTILE_COMMUNITY = "hostile-Qm4-community"

COMMUNITY = "walks"


@pytest.fixture(scope="module")
def net() -> Iterator[SimulatedNetwork]:
    agents = [
        ModemConfig(kind="cable_modem", name="cm32", community=COMMUNITY, ds_channels=32, us_channels=8),
        ModemConfig(kind="gateway", name="gw31", community=COMMUNITY, ofdm=True),
        # answers tooBig (never truncates) beyond about 1,400 octets, as many CPEs do
        ModemConfig(kind="cable_modem", name="small", community=COMMUNITY, ds_channels=32, us_channels=8,
                    max_response_size=1400, bulk_too_big=True),
    ]
    with SimulatedNetwork(NetworkConfig(agents=agents)) as network:
        yield network


@pytest.fixture(autouse=True)
def fresh_hints() -> Iterator[None]:
    """Each test starts as a new poller process does: no row counts seen yet."""
    device_poll._DEVICES.clear()
    device_poll._ROWS_SEEN.clear()
    yield
    device_poll._DEVICES.clear()
    device_poll._ROWS_SEEN.clear()


def target_of(net: SimulatedNetwork, name: str, prof: str) -> PollTarget:
    host, port, community = net.endpoint(name)
    return PollTarget("cpe", 1, name, prof, Target(host, port, V2c(community), 2.0, 1))


async def column_by_column(target: PollTarget) -> dict[str, Value]:
    """The reference: every readable column (fallbacks too) walked alone, one varbind per GETBULK."""
    prof = profile(target.profile)
    client = SnmpClient()
    try:
        raw = await client.get(target.target, prof.get_oids)
        for root in prof.walk_roots:
            raw.update(await client.walk(target.target, root))
        return raw
    finally:
        await client.close()


async def polled(target: PollTarget, times: int) -> tuple[list[int], dict[str, Value]]:
    """Requests of each of ``times`` polls (one client each) and the raw results of the last."""
    counts: list[int] = []
    raw: dict[str, Value] = {}
    for _ in range(times):
        client = SnmpClient()
        try:
            raw = await read_raw(client, target, profile(target.profile))
            counts.append(client.stats["requests"])
        finally:
            await client.close()
    return counts, raw


def fallback_objects(raw: dict[str, Value], prof: str) -> set[str]:
    p = profile(prof)
    roots = set(p.walk_roots) - set(p.primary_walk_roots)
    return {oid for oid in raw if any(oid.startswith(root + ".") for root in roots)}


def test_docsis30_modem_32x8_in_at_most_six_requests(net: SimulatedNetwork) -> None:
    target = target_of(net, "cm32", "docsis-cm")
    counts, raw = asyncio.run(polled(target, 2))
    reference = asyncio.run(column_by_column(target))
    # first poll sized by ifNumber (a GET, then everything in GETBULKs of up to 448 varbinds); from then on sized by
    # the modem's own row counts, the scalars riding along, the tables cut where a shared request would cost more
    # in varbinds past the shorter tables' ends than a request of their own: four GETBULKs
    assert counts == [5, 4]
    primary = {k: v for k, v in reference.items() if k not in fallback_objects(reference, "docsis-cm")}
    assert primary.keys() <= raw.keys() <= reference.keys()
    assert len([k for k in raw if k.startswith("1.3.6.1.2.1.10.127.1.1.1.1.6.")]) == 32  # DS power, 32 channels
    assert len([k for k in raw if k.startswith("1.3.6.1.4.1.4491.2.1.20.1.2.1.1.")]) == 8  # US tx power


def test_docsis31_gateway_with_wifi_in_at_most_ten_requests(net: SimulatedNetwork) -> None:
    target = target_of(net, "gw31", "docsis-gw")
    counts, raw = asyncio.run(polled(target, 2))
    assert max(counts) <= 10 and counts[-1] <= 4
    reference = asyncio.run(column_by_column(target))
    primary = {k for k in reference if k not in fallback_objects(reference, "docsis-gw")}
    assert primary <= raw.keys() <= reference.keys()


def test_samples_match_the_column_by_column_walk(net: SimulatedNetwork) -> None:
    target = target_of(net, "cm32", "docsis-cm")
    outcome = asyncio.run(_poll(target))
    assert outcome.ok, outcome.error
    counts = {m: sum(s.measurement == m for s in outcome.samples) for m in ("cm_downstream", "cm_upstream")}
    assert counts == {"cm_downstream": 32, "cm_upstream": 8}


async def _poll(target: PollTarget) -> device_poll.PollOutcome:
    client = SnmpClient()
    try:
        return await poll(client, target, None)
    finally:
        await client.close()


def test_too_big_answers_shrink_the_request_and_lose_nothing(net: SimulatedNetwork) -> None:
    target = target_of(net, "small", "docsis-cm")
    counts, raw = asyncio.run(polled(target, 1))
    reference = asyncio.run(column_by_column(target))
    assert raw.keys() - {k for k in raw if k in fallback_objects(raw, "docsis-cm")} <= reference.keys()
    assert len([k for k in raw if k.startswith("1.3.6.1.2.1.10.127.1.1.1.1.6.")]) == 32
    assert counts[0] > 6  # more, smaller answers: the price of a small agent, not a loss


def test_walk_columns_on_net_snmp_equals_walks(snmpd: Agent) -> None:
    roots = ["1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.4.20.1.1", "1.3.6.1.2.1.2.2.1.99"]

    async def both() -> tuple[list[dict[str, Value]], list[dict[str, Value]]]:
        client = SnmpClient()
        try:
            together = await client.walk_columns(snmpd.target(), roots, max_repetitions=3)
            alone = [await client.walk(snmpd.target(), root) for root in roots]
            return together, alone
        finally:
            await client.close()

    together, alone = asyncio.run(both())
    assert together == alone
    assert together[0] and together[1] and not together[3]


def test_scalars_ride_along_as_non_repeaters_on_net_snmp(snmpd: Agent) -> None:
    roots = ["1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.3"]
    scalars = ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.99.0"]  # sysDescr, sysName, none

    async def both() -> tuple[int, list[dict[str, Value]], list[dict[str, Value]], dict[str, Value]]:
        client = SnmpClient()
        try:
            together = await client.walk_columns(snmpd.target(), roots, max_repetitions=50, scalars=scalars)
            requests = client.stats["requests"]
            alone = await client.walk_columns(snmpd.target(), roots, max_repetitions=50)
            return requests, together, alone, await client.get(snmpd.target(), scalars)
        finally:
            await client.close()

    requests, together, alone, got = asyncio.run(both())
    assert requests == 1
    assert together[:2] == alone and together[0]
    assert together[2] == got and set(got) == set(scalars[:2])  # the absent one left out, as a GET leaves it


def test_an_agent_repeating_the_non_repeaters_fails_the_walk_instead_of_cutting_columns_short() -> None:
    with ScriptedAgent(mib_answer(HOSTILE_COMMUNITY, hostile_interfaces(), non_repeaters=False)) as agent:

        async def walk() -> list[dict[str, Value]]:
            client = SnmpClient()
            try:
                return await client.walk_columns(agent.target(timeout=1.0, retries=0),
                                                 [".".join(map(str, IF_TYPE)), ".".join(map(str, HC_OUT))],
                                                 max_repetitions=10, scalars=["1.3.6.1.2.1.1.1.0"])
            finally:
                await client.close()

        with pytest.raises(SnmpError, match="OIDs not increasing"):
            asyncio.run(walk())


def test_endless_column_stops_at_max_rows() -> None:
    column = (1, 3, 6, 1, 2, 1, 2, 2, 1, 10)
    with endless_columns([column]) as agent:

        async def walk() -> list[dict[str, Value]]:
            client = SnmpClient()
            try:
                return await client.walk_columns(agent.target(timeout=1.0, retries=0),
                                                 ["1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.2.2.1.99"],
                                                 max_repetitions=10, max_rows=[50, 50], tables=["if", "if"])
            finally:
                await client.close()

        with pytest.raises(SnmpLimitError, match="table if"):
            asyncio.run(walk())


def test_pack_keeps_tables_whole_within_the_budget() -> None:
    plans = [TablePlan("interfaces", ("a",) * 6, 100), TablePlan("downstream", ("b",) * 8, 100),
             TablePlan("upstream", ("c",) * 3, 100), TablePlan("empty", ("d",) * 6, 100)]
    # far apart in rows: a request each costs less than the varbinds past the shorter tables' ends
    assert pack(plans, [42, 32, 8, 0], 448) == [([3], 1), ([2], 9), ([1], 33), ([0], 43)]
    # close in rows: one request (14 columns x 10 repetitions), cheaper than two
    assert pack(plans[:2], [9, 8], 448) == [([1, 0], 10)]
    # the budget bounds a shared request: 14 columns x 33 repetitions would exceed 448 varbinds
    assert pack(plans[:2], [32, 32], 448) == [([0], 33), ([1], 33)]
    assert pack(plans[:1], [100], 60) == [([0], 10)]  # too wide alone: as many repetitions as fit


def test_a_deadline_names_the_tables_being_walked() -> None:
    column = (1, 3, 6, 1, 2, 1, 2, 2, 1, 10)
    with endless_columns([column]) as agent:

        async def walk() -> list[dict[str, Value]]:
            client = SnmpClient()
            try:
                return await client.walk_columns(agent.target(timeout=1.0, retries=0),
                                                 ["1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.2.2.1.99"],
                                                 max_repetitions=2, tables=["interfaces", "other"],
                                                 deadline=time.monotonic() + 0.5)
            finally:
                await client.close()

        with pytest.raises(SnmpDeadlineError, match=r"walking table\(s\) interfaces, other \(2 columns\)"):
            asyncio.run(walk())


def test_an_operators_profile_of_the_same_name_ignores_the_hints_of_the_built_in_one(
    net: SimulatedNetwork, tmp_path: Path
) -> None:
    target = target_of(net, "cm32", "docsis-cm")
    asyncio.run(polled(target, 1))  # hints of the built-in docsis-cm: 8 tables
    (tmp_path / "docsis-cm.yaml").write_text("name: docsis-cm\nextends: if-mib\n")
    own = load_profile("docsis-cm", dirs=[tmp_path])

    async def read() -> dict[str, Value]:
        client = SnmpClient()
        try:
            return await read_raw(client, target, own)
        finally:
            await client.close()

    raw = asyncio.run(read())
    assert len([k for k in raw if k.startswith("1.3.6.1.2.1.2.2.1.3.")]) == 42  # every interface's ifType
