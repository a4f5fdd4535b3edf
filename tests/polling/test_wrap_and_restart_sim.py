"""Against the simulator: a Counter32 that wraps and an agent that restarts give no spike and never > 100 %."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.samples import Sample
from collectors.sim import ManualClock, SimulatedNetwork
from collectors.sim.config import DeviceConfig, InterfaceConfig, NetworkConfig, ShapeConfig
from collectors.snmp.auth import Target, V2c
from collectors.snmp.client import SnmpClient
from collectors.snmp.counters import RateTracker
from collectors.snmp.device_poll import read_raw
from collectors.snmp.profiles import decode, load_profile
from collectors.snmp.values import Counter32
from noc.polling.segments import segment_readings
from noc.polling.targets import MemberRef, PollTarget, SegmentDef

# A profile that reads only the 32-bit counters, as an old device without ifXTable would give them.
COUNTER32_PROFILE = """\
name: if-mib-32
description: IF-MIB interfaces with 32-bit counters only
uptime: sysUpTime
scalars:
  - {name: sysUpTime, oid: 1.3.6.1.2.1.1.3.0, type: TimeTicks, field: uptime_s, scale: 0.01, unit: s}
tables:
  - name: interfaces
    measurement: interface
    index: [ifindex]
    columns:
      - {name: ifSpeed, oid: 1.3.6.1.2.1.2.2.1.5, type: Gauge32, field: speed_bps}
      - name: ifInOctets
        oid: 1.3.6.1.2.1.2.2.1.10
        type: Counter32
        field: in_octets
        rate: {field: in_bps, scale: 8, capacity: speed_bps}
"""
STEP_S = 30.0  # 1 Gbit/s at ~90 % moves 3.4 GB per step: the 4.29 GB Counter32 wraps about every 38 s


@pytest.fixture
def network() -> Iterator[tuple[SimulatedNetwork, ManualClock]]:
    clock = ManualClock()
    iface = InterfaceConfig(index=1, name="uplink", speed_mbps=1000,
                            inbound=ShapeConfig(kind="flat", peak=0.9, noise=0.05))
    config = NetworkConfig(speed=1.0, agents=[DeviceConfig(kind="router", name="r1", community="lab-c",
                                                             port=None, interfaces=[iface])])
    with SimulatedNetwork(config, clock=clock) as net:
        yield net, clock


def test_counter32_wrap_and_restart(network: tuple[SimulatedNetwork, ManualClock], tmp_path: Path) -> None:
    net, clock = network
    (tmp_path / "if-mib-32.yaml").write_text(COUNTER32_PROFILE)
    profile = load_profile("if-mib-32", dirs=[tmp_path])
    host, port, community = net.endpoint("r1")
    target = PollTarget("device", 1, "r1", "if-mib-32", Target(host, port, V2c(community), 1.0, 1))
    segment = SegmentDef(1, "seg", (MemberRef(1, "up", 1, "in", 1, None),), {"down": None, "up": None})
    tracker = RateTracker()
    raw_counters: list[int] = []
    rates: list[tuple[int, float | None, bool | None]] = []
    utilizations: list[float] = []

    async def step(i: int) -> list[Sample]:
        client = SnmpClient()
        try:
            raw = await read_raw(client, target, profile)
        finally:
            await client.close()
        counter = raw["1.3.6.1.2.1.2.2.1.10.1"]
        assert isinstance(counter, Counter32)
        raw_counters.append(int(counter))
        return decode(profile, "r1", raw, 1_000_000 + i * STEP_S, rates=tracker)

    for i in range(12):
        if i == 7:
            net.call(net.agent("r1").restart)
        samples = asyncio.run(step(i))
        [iface] = [s for s in samples if s.measurement == "interface"]
        rates.append((i, iface.fields.get("in_bps"), iface.fields.get("in_bps_valid")))  # type: ignore[arg-type]
        readings = segment_readings([segment], {1: "r1"}, samples, int(1_000_000 + i * STEP_S))
        utilizations += [p.utilization for p in readings.points]
        clock.advance(STEP_S)

    wraps = sum(1 for a, b in itertools.pairwise(raw_counters) if b < a)
    assert wraps >= 3  # the 32-bit counter really wrapped, several times
    valid = [bps for _, bps, ok in rates if ok]
    assert len(valid) >= 8
    assert all(0.8e9 <= bps <= 1.0e9 for bps in valid), rates  # ~90 % of 1 Gbit/s, never a spike
    restart_step = rates[7]
    assert restart_step[2] is not True  # the interval spanning the restart gives no rate
    assert rates[8][2] is True  # and the next one is normal again
    assert utilizations and max(utilizations) <= 1.0
