"""Multi-column walks: several columns per GETBULK, each stopping at its own end, give what walking each column
alone gives, in few requests: against the simulator's DOCSIS modems and gateways and a real net-snmp agent."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.sim import SimulatedNetwork
from collectors.sim.config import ModemConfig, NetworkConfig
from collectors.sim.ifmib import IF_ENTRY, IF_NUMBER, IFX_ENTRY
from collectors.snmp import device_poll
from collectors.snmp.auth import Target, V2c
from collectors.snmp.client import SnmpClient
from collectors.snmp.device_poll import PollTarget, pack, poll, profile, read_raw
from collectors.snmp.errors import SnmpDeadlineError, SnmpError, SnmpLimitError
from collectors.snmp.profiles import TablePlan, decode, load_profile
from collectors.snmp.values import Counter32, Counter64, Gauge32, Value
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
        # its interface table is changed by the tests of rows read by index
        ModemConfig(kind="cable_modem", name="cmx", community=COMMUNITY, ds_channels=4, us_channels=2),
    ]
    with SimulatedNetwork(NetworkConfig(agents=agents)) as network:
        yield network


@pytest.fixture(autouse=True)
def fresh_hints() -> Iterator[None]:
    """Each test starts as a new poller process does: no row counts seen yet."""
    for seen in (device_poll._DEVICES, device_poll._ROWS_SEEN, device_poll._KEPT_SEEN):
        seen.clear()
    yield
    for seen in (device_poll._DEVICES, device_poll._ROWS_SEEN, device_poll._KEPT_SEEN):
        seen.clear()


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


def series(raw: dict[str, Value], prof: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[str]]:
    """The samples ``raw`` decodes into: (measurement, tags) → field names."""
    return {(s.measurement, s.tags): sorted(s.fields) for s in decode(profile(prof), "cpe", raw, 0.0)}


def test_docsis30_modem_32x8_in_at_most_six_requests(net: SimulatedNetwork) -> None:
    target = target_of(net, "cm32", "docsis-cm")
    counts, raw = asyncio.run(polled(target, 3))
    reference = asyncio.run(column_by_column(target))
    # first poll sized by ifNumber (a GET, then everything in GETBULKs of up to 448 varbinds); from then on sized by
    # the modem's own row counts, the scalars and the interface rows its filter kept riding along (by index, not
    # walked: the MAC interface's row), the tables cut where a shared request would cost more in varbinds past the
    # shorter tables' ends than a request of their own: three GETBULKs
    assert counts == [5, 3, 3]
    assert series(raw, "docsis-cm") == series(reference, "docsis-cm")
    assert raw.keys() <= reference.keys()
    if_types = [[k for k in r if k.startswith("1.3.6.1.2.1.2.2.1.3.")] for r in (raw, reference)]
    assert len(if_types[0]) == 1 and len(if_types[1]) > 40  # the MAC interface's row only, of 1 + 1 + 32 + 8
    assert len([k for k in raw if k.startswith("1.3.6.1.2.1.10.127.1.1.1.1.6.")]) == 32  # DS power, 32 channels
    assert len([k for k in raw if k.startswith("1.3.6.1.4.1.4491.2.1.20.1.2.1.1.")]) == 8  # US tx power


def test_docsis31_gateway_with_wifi_in_at_most_ten_requests(net: SimulatedNetwork) -> None:
    target = target_of(net, "gw31", "docsis-gw")
    counts, raw = asyncio.run(polled(target, 3))
    assert max(counts) <= 10 and counts[-1] <= 4
    reference = asyncio.run(column_by_column(target))
    assert series(raw, "docsis-gw") == series(reference, "docsis-gw")
    assert raw.keys() <= reference.keys()


def _add_interface(net: SimulatedNetwork, index: int, if_type: int) -> None:
    mib = net.agent("cmx").mib
    for oid, value in {
        (*IF_ENTRY, 2, index): b"added", (*IF_ENTRY, 3, index): if_type, (*IF_ENTRY, 5, index): Gauge32(10**9),
        (*IF_ENTRY, 8, index): 1, (*IF_ENTRY, 10, index): Counter32(5), (*IF_ENTRY, 16, index): Counter32(6),
        (*IFX_ENTRY, 6, index): Counter64(5), (*IFX_ENTRY, 10, index): Counter64(6),
        (*IFX_ENTRY, 15, index): Gauge32(1000),
    }.items():
        mib.put(oid, value)


def _interfaces(raw: dict[str, Value]) -> set[str]:
    return {tags[1][1] for measurement, tags in series(raw, "docsis-cm") if measurement == "interface"}


def _one_poll(target: PollTarget) -> tuple[set[str], int]:
    """The interfaces a poll gave, and the ifType values it read (one per row: walked whole or by index)."""
    raw = asyncio.run(polled(target, 1))[1]
    return _interfaces(raw), len([k for k in raw if k.startswith("1.3.6.1.2.1.2.2.1.3.")])


def test_filtered_rows_read_by_index_follow_the_table(net: SimulatedNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows the filter kept are read by index until the table changes: an added interface (ifNumber changes) or a
    kept row gone makes that poll walk the table whole; a row that starts to pass the filter with ifNumber
    unchanged is found by the walk every ``FULL_WALK_EVERY`` polls."""
    target = target_of(net, "cmx", "docsis-cm")
    mib = net.agent("cmx").mib
    rows = mib.get(IF_NUMBER, None)
    assert isinstance(rows, int)
    kept, walked = _one_poll(target)
    assert kept == {"2"} and walked == rows  # the MAC interface, of 1 + 1 + 4 + 2 rows walked
    assert _one_poll(target) == (kept, 1)  # by index

    _add_interface(net, 900, 277)  # an OFDM channel comes up
    mib.put(IF_NUMBER, rows + 1)
    assert _one_poll(target) == (kept | {"900"}, rows + 1)  # ifNumber changed: walked whole
    assert _one_poll(target) == (kept | {"900"}, 2)

    mib.remove((*IF_ENTRY, 3, 900))  # a kept row no longer answers its filter column: walked whole
    assert _one_poll(target) == (kept, rows)
    mib.put((*IF_ENTRY, 3, 900), 277)  # passes again, ifNumber unchanged: unseen until the walk of every few polls
    monkeypatch.setattr(device_poll, "FULL_WALK_EVERY", 3)
    assert [_one_poll(target) for _ in range(3)] == [(kept, 1), (kept, 1), (kept | {"900"}, rows + 1)]


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


def test_a_device_polled_first_is_read_by_the_rows_a_device_of_its_model_kept(net: SimulatedNetwork) -> None:
    """A modem polled first is read by the interface rows another modem of its profile kept (ifNumber and the rows'
    ifType checked), and walked whole once within ``FULL_WALK_EVERY`` polls (at a poll its name picks). A modem
    whose ifNumber differs is walked whole at once."""
    assert _one_poll(target_of(net, "cm32", "docsis-cm")) == ({"2"}, 42)
    small = target_of(net, "small", "docsis-cm")  # the same model as cm32
    polls = [_one_poll(small) for _ in range(device_poll.FULL_WALK_EVERY)]
    assert sorted(polls, key=lambda p: p[1]) == [({"2"}, 1)] * (device_poll.FULL_WALK_EVERY - 1) + [({"2"}, 42)]
    assert zlib.crc32(b"small") % device_poll.FULL_WALK_EVERY < device_poll.FULL_WALK_EVERY - 1  # so:
    assert polls[0] == ({"2"}, 1)  # read by index from its first poll
    other = target_of(net, "cmx", "docsis-cm")  # 4 downstream and 2 upstream channels: another ifNumber
    interfaces, walked = _one_poll(other)
    assert "2" in interfaces and walked == net.agent("cmx").mib.get(IF_NUMBER, None)
