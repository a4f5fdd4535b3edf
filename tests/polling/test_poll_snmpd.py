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


def snmpget_counters(snmpd: Agent) -> tuple[float, int, int, float]:
    """(time, ifHCInOctets.1, ifHCOutOctets.1, uncertainty) of loopback, read with net-snmp's snmpget: the time is
    the middle of the snmpget run, the uncertainty half its length (the agent read the counters somewhere in it)."""
    start = time.monotonic()
    done = snmpd.cli("snmpget", "-Oqv", HC_IN, HC_OUT)
    end = time.monotonic()
    values = [int(v) for v in done.stdout.split()]
    return (start + end) / 2, values[0], values[1], (end - start) / 2


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

    async def timed_poll(client: SnmpClient, tracker: RateTracker) -> tuple[PollOutcome, float]:
        start = time.monotonic()
        outcome = await poll(client, target, tracker)
        return outcome, time.monotonic() - start

    async def scenario() -> tuple[PollOutcome, float, tuple[float, int, int, float], tuple[float, int, int, float]]:
        client, tracker = SnmpClient(), RateTracker()
        try:
            first, first_s = await timed_poll(client, tracker)
            assert first.ok, first.error
            assert any(s.measurement == "system" and s.fields.get("uptime_s") for s in first.samples)
            before = snmpget_counters(snmpd)
            await asyncio.to_thread(loopback_traffic, 200)
            await asyncio.sleep(6)  # past snmpd's interface cache
            second, second_s = await timed_poll(client, tracker)
            after = snmpget_counters(snmpd)
            return second, first_s + second_s, before, after
        finally:
            await client.close()

    second, polls_s, before, after = asyncio.run(scenario())
    assert second.ok, second.error
    noc_in, noc_out = lo_rates(second)
    seconds = after[0] - before[0]
    ref_in, ref_out = (after[1] - before[1]) * 8 / seconds, (after[2] - before[2]) * 8 / seconds
    assert ref_in > 100e6  # the burst really went through loopback
    # 2 %, plus what the clocks cannot tell apart on a busy machine: when within its snmpget run, or within noc's
    # poll, each reading was taken (other tests' loopback traffic runs meanwhile).
    skew = before[3] + after[3] + polls_s
    tolerance = 0.02 + skew / seconds
    assert noc_in == pytest.approx(ref_in, rel=tolerance), f"window {seconds:.2f} s, timing skew up to {skew:.3f} s"
    assert noc_out == pytest.approx(ref_out, rel=tolerance), f"window {seconds:.2f} s, timing skew up to {skew:.3f} s"


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
