"""Timeouts, retries, concurrency bounds, cancellation and close, against a real agent and a dead port."""

from __future__ import annotations

import asyncio
import time

import pytest

from collectors.snmp.auth import Target
from collectors.snmp.client import SnmpClient, SnmpError, SnmpTimeout
from tests.support.snmpd import Agent, free_udp_port

from .conftest import run, with_client

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
TEN_OBJECTS = [
    "1.3.6.1.2.1.1.3.0",
    "1.3.6.1.2.1.1.5.0",
    "1.3.6.1.2.1.2.1.0",
    "1.3.6.1.2.1.2.2.1.10.1",
    "1.3.6.1.2.1.2.2.1.16.1",
    "1.3.6.1.2.1.31.1.1.1.6.1",
    "1.3.6.1.2.1.31.1.1.1.10.1",
    "1.3.6.1.2.1.2.2.1.8.1",
    "1.3.6.1.2.1.2.2.1.14.1",
    "1.3.6.1.2.1.31.1.1.1.15.1",
]


def dead_target(agent: Agent, timeout: float, retries: int = 0) -> Target:
    """A loopback port where nothing listens."""
    return Target(agent.host, free_udp_port(), agent.target().credentials, timeout=timeout, retries=retries)


async def peak_in_flight(client: SnmpClient, work: asyncio.Future[object]) -> int:
    peak = 0
    while not work.done():
        peak = max(peak, client.in_flight)
        await asyncio.sleep(0.005)
    return peak


def test_dead_port_times_out_after_timeout_times_attempts(snmpd: Agent) -> None:
    target = dead_target(snmpd, timeout=0.25, retries=1)

    async def poll(c: SnmpClient) -> float:
        start = time.monotonic()
        with pytest.raises(SnmpTimeout, match=target.address):
            await c.get(target, [SYS_UPTIME])
        assert (c.stats["retries"], c.stats["timeouts"]) == (1, 1)
        return time.monotonic() - start

    assert 0.45 < run(with_client(poll)) < 1.2


def test_dead_device_does_not_delay_a_live_one(snmpd: Agent) -> None:
    dead = dead_target(snmpd, timeout=0.5)
    live = snmpd.target(timeout=1)

    async def scenario(c: SnmpClient) -> tuple[list[float], list[object]]:
        dead_polls = asyncio.gather(*(c.get(dead, [SYS_UPTIME]) for _ in range(6)), return_exceptions=True)
        await asyncio.sleep(0.05)  # the dead device now holds its slots and has a queue
        latencies = []
        for _ in range(30):
            start = time.monotonic()
            await c.get(live, TEN_OBJECTS)
            latencies.append(time.monotonic() - start)
        assert not dead_polls.done()  # all live polls finished while the dead ones still wait
        return latencies, await dead_polls

    latencies, dead_results = run(with_client(scenario, max_concurrency=4, per_device=2))
    assert max(latencies) < 0.3  # a dead-device wait would be 0.5 s
    assert all(isinstance(r, SnmpTimeout) for r in dead_results)


def test_per_device_limit(snmpd: Agent) -> None:
    dead = dead_target(snmpd, timeout=0.2)

    async def scenario(c: SnmpClient) -> tuple[int, float]:
        start = time.monotonic()
        work = asyncio.gather(*(c.get(dead, [SYS_UPTIME]) for _ in range(6)), return_exceptions=True)
        peak = await peak_in_flight(c, work)
        return peak, time.monotonic() - start

    peak, elapsed = run(with_client(scenario, per_device=2))
    assert peak == 2
    assert 0.55 < elapsed < 1.5  # three waves of two


def test_global_limit(snmpd: Agent) -> None:
    deads = [dead_target(snmpd, timeout=0.2) for _ in range(4)]

    async def scenario(c: SnmpClient) -> int:
        work = asyncio.gather(*(c.get(t, [SYS_UPTIME]) for t in deads for _ in range(2)), return_exceptions=True)
        return await peak_in_flight(c, work)

    assert run(with_client(scenario, max_concurrency=3, per_device=2)) == 3


def test_thousands_of_concurrent_polls_are_demultiplexed(snmpd: Agent) -> None:
    async def scenario(c: SnmpClient) -> list[dict[str, object]]:
        polls = await asyncio.gather(*(c.get(snmpd.target(timeout=2, retries=2), TEN_OBJECTS) for _ in range(3000)))
        assert c.stats["responses"] == 3000 and c.stats["unmatched"] == 0
        return polls

    # 64 in flight to one snmpd: more overflows its default 208 kB socket buffer and it drops requests
    results = run(with_client(scenario, max_concurrency=512, per_device=64))
    assert all(len(r) == len(TEN_OBJECTS) for r in results)


def test_cancelled_poll_frees_its_slots(snmpd: Agent) -> None:
    dead = dead_target(snmpd, timeout=5)

    async def scenario(c: SnmpClient) -> None:
        tasks = [asyncio.create_task(c.get(dead, [SYS_UPTIME])) for _ in range(3)]  # one waits for a slot
        await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert c.in_flight == 0
        await asyncio.wait_for(c.get(Target(dead.host, dead.port, timeout=0.1, retries=0), [SYS_UPTIME]), 1)

    with pytest.raises(SnmpTimeout):  # the device's slots were released: the last poll ran (and timed out)
        run(with_client(scenario, per_device=2))


def test_close_fails_requests_in_flight(snmpd: Agent) -> None:
    dead = dead_target(snmpd, timeout=5)

    async def scenario() -> None:
        c = SnmpClient()
        poll = asyncio.create_task(c.get(dead, [SYS_UPTIME]))
        await asyncio.sleep(0.05)
        await c.close()
        with pytest.raises(SnmpError, match=f"{dead.address}: client was closed"):
            await asyncio.wait_for(poll, 1)
        with pytest.raises(SnmpError, match="closed"):
            await c.get(snmpd.target(), [SYS_UPTIME])

    run(scenario())


def test_host_names_are_resolved(snmpd: Agent) -> None:
    target = Target("localhost", snmpd.port, snmpd.target().credentials)
    assert SYS_UPTIME in run(with_client(lambda c: c.get(target, [SYS_UPTIME])))


def test_client_can_be_reused_from_successive_event_loops(snmpd: Agent) -> None:
    """A CLI may call ``asyncio.run`` once per command with one client: each loop gets fresh sockets."""
    client = SnmpClient()
    for _ in range(3):
        assert SYS_UPTIME in asyncio.run(client.get(snmpd.target(), [SYS_UPTIME]))
    asyncio.run(client.close())
