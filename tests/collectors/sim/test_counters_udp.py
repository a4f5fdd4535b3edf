"""Moving counters over real UDP and real (accelerated) time, read with net-snmp: rates follow the configured
shape, Counter32 wraps, a scheduled restart resets sysUpTime and counters."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest

from collectors.sim import SimulatedNetwork
from tests.collectors.sim import netsnmp

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_IN = "1.3.6.1.2.1.2.2.1.10"
HC_IN, HC_OUT = "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10"


CMTS = {"kind": "cmts", "name": "cmts", "interfaces": [
    {"index": 1001, "name": "ds", "type": 128, "speed_mbps": 1600,
     "outbound": {"kind": "daily", "peak": 0.6, "noise": 0.03}},
    {"index": 2001, "name": "us", "type": 129, "speed_mbps": 200,
     "inbound": {"kind": "flat", "peak": 0.45, "noise": 0.02}}]}
WRAP = {"kind": "router", "name": "wrap", "interfaces": [
    {"index": 1, "name": "te0", "speed_mbps": 10_000, "inbound": {"kind": "flat", "peak": 0.8, "noise": 0},
     "initial_in_octets": 2**32 - 300_000_000}]}
FLAPPY = {"kind": "router", "name": "flappy", "restart_every": 1.2, "initial_uptime": 500, "interfaces": [
    {"index": 1, "name": "ge0", "speed_mbps": 1000, "inbound": {"kind": "flat", "peak": 0.5, "noise": 0},
     "initial_in_octets": 10**12}]}


@pytest.fixture
def net() -> Iterator[SimulatedNetwork]:
    """A fresh network per test: these tests depend on the time since the agents started."""
    with SimulatedNetwork({"speed": 60, "start": "21:00", "agents": [CMTS, WRAP, FLAPPY]}) as network:
        yield network


def test_rates_follow_the_shape(net: SimulatedNetwork) -> None:
    ep = net.endpoint("cmts")
    first = netsnmp.get_values(ep, SYS_UPTIME, f"{HC_OUT}.1001", f"{HC_IN}.2001")
    time.sleep(1.5)
    second = netsnmp.get_values(ep, SYS_UPTIME, f"{HC_OUT}.1001", f"{HC_IN}.2001")
    seconds = (second[0] - first[0]) / 100  # the agent's own clock, as a poller would use it
    down = (second[1] - first[1]) * 8 / seconds / 1.6e9
    up = (second[2] - first[2]) * 8 / seconds / 200e6
    # at 21:00 the daily curve is at its peak; 1.5 s at 60x is 90 simulated seconds
    assert down == pytest.approx(0.6, abs=0.6 * 0.03 + 0.02)
    assert up == pytest.approx(0.45, abs=0.45 * 0.02 + 0.02)


def test_counter32_wraps(net: SimulatedNetwork) -> None:
    ep = net.endpoint("wrap")
    readings = []
    for _ in range(3):
        readings.append(netsnmp.get_values(ep, f"{IF_IN}.1", f"{HC_IN}.1"))
        time.sleep(0.25)  # 250 MB per 0.25 s against a counter started 300 MB before its wrap
    c32 = [r[0] for r in readings]
    c64 = [r[1] for r in readings]
    assert c64 == sorted(c64) and c64[-1] > 2**32
    assert any(b < a for a, b in itertools.pairwise(c32))
    assert all(a == b % 2**32 for a, b in zip(c32, c64, strict=True))


def test_scheduled_restart_resets_uptime_and_counters(net: SimulatedNetwork) -> None:
    ep = net.endpoint("flappy")
    seen = []
    deadline = time.monotonic() + 2.6
    while time.monotonic() < deadline:
        seen.append(netsnmp.get_values(ep, SYS_UPTIME, f"{HC_IN}.1"))
        time.sleep(0.1)
    uptimes = [u for u, _ in seen]
    drops = [i for i in range(1, len(seen)) if uptimes[i] < uptimes[i - 1]]
    assert drops, uptimes
    for i in drops:
        assert uptimes[i] < 130 and seen[i][1] < seen[i - 1][1]
        assert seen[i][1] < 10**12  # the initial octets belong to the first boot only
    assert max(uptimes) >= 50_000  # the first boot carries its 500 s of initial uptime
