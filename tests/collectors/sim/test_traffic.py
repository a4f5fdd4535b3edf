"""Traffic shapes and counters, exactly, on a manual clock: integrals, monotonic counters, rates that follow the
shape under acceleration, the climbing segment, Counter32 wraps and restarts."""

from __future__ import annotations

import itertools
import random

import pytest
from pydantic import ValidationError

from collectors.sim import ManualClock, NetworkConfig, ShapeConfig
from collectors.sim.agent import Agent
from collectors.sim.build import build_agent, shape
from collectors.sim.clock import Timeline, parse_start
from collectors.sim.demo import CLIMBING_SEGMENT, demo_devices
from collectors.sim.message import Message, encode_message
from collectors.sim.responder import answer
from collectors.sim.smi import Oid
from collectors.sim.traffic import DAILY_CURVE, Daily
from collectors.snmp.ber import PduType
from collectors.snmp.values import NULL

IF_IN, IF_OUT = (1, 3, 6, 1, 2, 1, 2, 2, 1, 10), (1, 3, 6, 1, 2, 1, 2, 2, 1, 16)
HC_IN, HC_OUT = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 6), (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 10)
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)


def device(clock: ManualClock, speed: float = 60.0, start: str = "00:00", **agent: object) -> Agent:
    config = NetworkConfig.model_validate({"speed": speed, "start": start, "agents": [{
        "kind": "router", "name": "r", **agent}]})
    return build_agent(config.agents[0], clock, Timeline(speed, parse_start(start)), seed=1)


def read(agent: Agent, oid: Oid) -> int:
    value = agent.mib.value(oid, agent.moment())
    assert isinstance(value, int)
    return value


def test_daily_curve_has_its_busy_hour_in_the_evening() -> None:
    curve = Daily(1.0, start_tod=0.0)
    by_minute = [curve.value(m * 60) for m in range(24 * 60)]
    busiest = max(range(len(by_minute)), key=by_minute.__getitem__)
    assert busiest == 21 * 60 and by_minute[busiest] == 1.0
    assert all(v >= 0.95 for v in by_minute[20 * 60:22 * 60])
    assert min(by_minute) == min(DAILY_CURVE) == by_minute[4 * 60]


@pytest.mark.parametrize("cfg", [
    ShapeConfig(kind="daily", peak=0.7, noise=0.1, shift_hours=-2),
    ShapeConfig(kind="climb", start=0.3, peak=0.9, ramp_minutes=45, noise=0.05),
    ShapeConfig(kind="flat", peak=0.4, noise=0.15),
])
def test_integrals_match_numeric_integration(cfg: ShapeConfig) -> None:
    curve = shape(cfg, Timeline(1.0, parse_start("13:17")), seed="x")
    rng = random.Random(3)
    for _ in range(20):
        a = rng.uniform(0, 3 * 86400)
        b = a + rng.uniform(1, 7200)
        n = 4000
        h = (b - a) / n
        simpson = h / 3 * sum((1 if i in (0, n) else 4 if i % 2 else 2) * curve.util(a + i * h) for i in range(n + 1))
        assert curve.integral(b) - curve.integral(a) == pytest.approx(simpson, rel=1e-6)
        assert 0 <= curve.util(a) <= 1


def test_shapes_that_could_leave_zero_to_one_are_rejected() -> None:
    with pytest.raises(ValidationError, match="must not exceed 1"):
        ShapeConfig(kind="daily", peak=0.95, noise=0.1)
    with pytest.raises(ValidationError, match="go negative"):
        ShapeConfig(kind="climb", start=0.0, peak=0.8, noise=0.05)


def test_counters_are_monotonic_over_three_simulated_days() -> None:
    clock = ManualClock()
    agent = device(clock, speed=60, interfaces=[{"index": 1, "name": "x", "speed_mbps": 10_000,
                                                "inbound": {"kind": "daily", "peak": 0.9, "noise": 0.1}}])
    rng = random.Random(5)
    last = read(agent, (*HC_IN, 1))
    while clock.now < 3 * 86400 / 60:
        clock.advance(rng.choice([0.0, 0.001, rng.uniform(0, 2), rng.uniform(0, 120)]))
        value = read(agent, (*HC_IN, 1))
        assert value >= last
        last = value
    assert last > 0


def test_rates_follow_the_daily_shape_under_acceleration() -> None:
    clock = ManualClock()
    agent = device(clock, speed=60, start="00:00", interfaces=[{
        "index": 1, "name": "x", "speed_mbps": 1000, "inbound": {"kind": "daily", "peak": 0.6, "noise": 0.03}}])
    for hour in (4, 12, 21):
        clock.now = hour * 60.0  # at 60x, a real minute is a simulated hour
        before = read(agent, (*HC_IN, 1))
        clock.advance(10)  # ten real seconds = ten simulated minutes
        utilization = (read(agent, (*HC_IN, 1)) - before) * 8 / 10 / 1e9
        expected = 0.6 * DAILY_CURVE[hour]
        assert utilization == pytest.approx(expected, abs=0.6 * 0.03 + 0.01), hour


def test_the_demo_segment_climbs_past_seventy_percent_within_minutes() -> None:
    clock = ManualClock()
    (cmts,) = [d for d in demo_devices(base_port=None) if d.name == "cmts-1"]
    agent = build_agent(cmts, clock, Timeline(60.0, parse_start("17:00")), seed=7)
    index = next(i.index for i in cmts.interfaces if i.alias == CLIMBING_SEGMENT and i.type == 128)
    utilization = []
    for _ in range(6):  # six 30-second polls: the first three real minutes of the demo
        before = read(agent, (*HC_OUT, index))
        clock.advance(30)
        utilization.append((read(agent, (*HC_OUT, index)) - before) * 8 / 30 / 1.6e9)
    assert utilization[0] < 0.6
    assert utilization == sorted(utilization)
    assert utilization[-1] > 0.7
    crossing = next(i for i, u in enumerate(utilization) if u > 0.7)
    assert (crossing + 1) * 30 <= 180


def test_counter32_wraps_while_counter64_keeps_counting() -> None:
    clock = ManualClock()
    agent = device(clock, speed=1, interfaces=[{
        "index": 1, "name": "x", "speed_mbps": 10_000, "inbound": {"kind": "flat", "peak": 0.8, "noise": 0.0},
        "initial_in_octets": 2**32 - 3 * 10**9}])
    seen32, seen64 = [], []
    for _ in range(10):
        seen32.append(read(agent, (*IF_IN, 1)))
        seen64.append(read(agent, (*HC_IN, 1)))
        clock.advance(1.0)  # 1 GB per second
    assert seen64 == sorted(seen64) and seen64[-1] > 2**32
    wraps = [i for i in range(1, 10) if seen32[i] < seen32[i - 1]]
    assert len(wraps) >= 2  # 10 GB through a 4.29 GB counter
    assert all(c32 == c64 % 2**32 for c32, c64 in zip(seen32, seen64, strict=True))
    assert all((b - a) % 2**32 == pytest.approx(10**9, rel=1e-6) for a, b in itertools.pairwise(seen32))


def test_scheduled_and_manual_restarts_reset_uptime_and_counters() -> None:
    clock = ManualClock()
    agent = device(clock, speed=1, initial_uptime=1000, restart_every=100, restart_downtime=5, interfaces=[{
        "index": 1, "name": "x", "speed_mbps": 1000, "inbound": {"kind": "flat", "peak": 0.5, "noise": 0.0},
        "initial_in_octets": 10**12}])
    clock.advance(99)
    assert read(agent, SYS_UPTIME) == (1000 + 99) * 100
    assert read(agent, (*HC_IN, 1)) == 10**12 + 99 * 62_500_000
    request = encode_message(Message(1, b"public", PduType.GET, 1, 0, 0, [(SYS_UPTIME, NULL)]))
    clock.advance(2)  # restarted at 100 s, still booting
    assert answer(agent, request) is None
    assert read(agent, SYS_UPTIME) == 100
    assert read(agent, (*HC_IN, 1)) == 62_500_000
    clock.advance(10)
    assert answer(agent, request) is not None
    clock.advance(20)
    agent.restart()
    assert read(agent, SYS_UPTIME) == 0 and read(agent, (*HC_IN, 1)) == 0
    assert agent.moment().epoch == 2
    clock.advance(6)
    assert read(agent, SYS_UPTIME) == 600 and read(agent, (*HC_IN, 1)) == 6 * 62_500_000
