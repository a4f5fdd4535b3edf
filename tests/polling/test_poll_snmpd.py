"""noc's poller against a real net-snmp agent: rates agree with net-snmp's own readings, v2c and v3."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from pathlib import Path

import pytest

from collectors.snmp.auth import Target, V2c
from collectors.snmp.client import SnmpClient
from collectors.snmp.counters import RateTracker
from collectors.snmp.device_poll import PollOutcome, poll
from noc.polling.targets import PollTarget
from tests.support.snmpd import COMMUNITY, V3_SHA, V3_SHA256, Agent

HC_IN, HC_OUT, UPTIME = "1.3.6.1.2.1.31.1.1.1.6.1", "1.3.6.1.2.1.31.1.1.1.10.1", "1.3.6.1.2.1.1.3.0"


def snmpget_counters(snmpd: Agent) -> tuple[float, int, int]:
    """(time, ifHCInOctets.1, ifHCOutOctets.1) of loopback, read with net-snmp's snmpget."""
    at = time.time()
    done = snmpd.cli("snmpget", "-Oqv", HC_IN, HC_OUT)
    values = [int(v) for v in done.stdout.split()]
    return at, values[0], values[1]


def loopback_traffic(megabytes: int) -> None:
    """Push UDP datagrams through the loopback interface."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setblocking(False)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = b"x" * 60000
    for _ in range(megabytes * 1_000_000 // len(payload)):
        tx.sendto(payload, rx.getsockname())
        with contextlib.suppress(BlockingIOError):
            while True:
                rx.recv(65535)
    tx.close()
    rx.close()


def lo_rates(outcome: PollOutcome) -> tuple[float, float]:
    [lo] = [s for s in outcome.samples if s.measurement == "interface" and s.tag("ifindex") == "1"]
    # net-snmp reports lo at 10 Mbit/s, so a 200 MB burst is (rightly) "above speed": kept, but invalid.
    assert lo.fields["in_bps_valid"] is (float(lo.fields["in_bps"]) <= float(lo.fields["speed_bps"]))
    return float(lo.fields["in_bps"]), float(lo.fields["out_bps"])


@pytest.mark.parametrize("credentials", [V2c(COMMUNITY), V3_SHA, V3_SHA256], ids=["v2c", "v3-sha", "v3-sha256"])
def test_rates_agree_with_snmpget_within_2_percent(snmpd: Agent, credentials: object) -> None:
    target = PollTarget("device", 1, "lab", "if-mib", Target(snmpd.host, snmpd.port, credentials))  # type: ignore[arg-type]

    async def scenario() -> tuple[PollOutcome, tuple[float, int, int], tuple[float, int, int]]:
        client, tracker = SnmpClient(), RateTracker()
        try:
            first = await poll(client, target, tracker)
            assert first.ok, first.error
            assert any(s.measurement == "system" and s.fields.get("uptime_s") for s in first.samples)
            before = snmpget_counters(snmpd)
            await asyncio.to_thread(loopback_traffic, 200)
            await asyncio.sleep(6)  # past snmpd's interface cache, and long enough that skew is < 1 %
            second = await poll(client, target, tracker)
            after = snmpget_counters(snmpd)
            return second, before, after
        finally:
            await client.close()

    second, before, after = asyncio.run(scenario())
    assert second.ok, second.error
    noc_in, noc_out = lo_rates(second)
    seconds = after[0] - before[0]
    ref_in, ref_out = (after[1] - before[1]) * 8 / seconds, (after[2] - before[2]) * 8 / seconds
    assert ref_in > 100e6  # the burst really went through loopback
    assert noc_in == pytest.approx(ref_in, rel=0.02)
    assert noc_out == pytest.approx(ref_out, rel=0.02)


def test_a_dead_device_is_an_error_not_an_exception(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = PollTarget("device", 1, "dead", "if-mib", Target("127.0.0.1", port, V2c("x-secret"), 0.3, 0))

    async def scenario() -> PollOutcome:
        client = SnmpClient()
        try:
            return await poll(client, target, None)
        finally:
            await client.close()

    outcome = asyncio.run(scenario())
    assert not outcome.ok and outcome.error_kind == "timeout" and "x-secret" not in outcome.error


def test_snmpget_sees_the_same_uptime_source(snmpd: Agent) -> None:
    done = snmpd.cli("snmpget", "-Oqvt", UPTIME)
    assert int(done.stdout.strip()) > 0
    assert subprocess.run(["snmpget", "--version"], capture_output=True).returncode == 0
