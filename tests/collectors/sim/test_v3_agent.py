"""SNMPv3 USM on the agent side: net-snmp's tools and noc's own client read and write a simulated gateway over
authPriv; discovery, wrong keys, unknown users, lower levels and restarts answer with the reports net-snmp's
agent sends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from collectors.sim import SimulatedNetwork
from collectors.sim.usm_agent import engine_id_for
from collectors.snmp.auth import V3, Target, V2c
from collectors.snmp.client import SnmpAuthError, SnmpClient
from collectors.snmp.values import Gauge32
from tests.collectors.sim import netsnmp
from tests.collectors.sim.netsnmp import SnmpError

SSID = "1.3.6.1.4.1.4491.2.5.1.1.4.1"
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
USERS = [{"user": "noc", "auth_proto": "SHA", "auth_key": "authpass123", "priv_proto": "AES",
          "priv_key": "privpass123"},
         {"user": "sha256", "auth_proto": "SHA-256", "auth_key": "authpass456", "priv_proto": "AES-256",
          "priv_key": "privpass456"},
         {"user": "reader", "auth_proto": "SHA", "auth_key": "authpass789"}]
NOC = V3("noc", "SHA", "authpass123", "AES", "privpass123")


@pytest.fixture
def net() -> Iterator[SimulatedNetwork]:
    config = {"agents": [{"kind": "gateway", "name": "gw", "community": "private", "mac": "02:00:00:00:01:02",
                          "v3_users": USERS, "wifi": {"ssid": "Novak-Home", "passphrase": "correct-horse-42"}}]}
    with SimulatedNetwork(config) as network:
        yield network


def test_net_snmp_reads_and_writes_over_auth_priv(net: SimulatedNetwork) -> None:
    ep = net.endpoint("gw")
    security = netsnmp.v3("noc")
    assert netsnmp.get_values(ep, f"{SSID}.10.1", security=security) == [b"Novak-Home"]
    netsnmp.set_(ep, f"{SSID}.10.1", "s", "Renamed", security=security)
    assert netsnmp.get_values(ep, f"{SSID}.10.1", security=security) == [b"Renamed"]
    walked = netsnmp.walk(ep, f"{SSID}.10", security=security)
    assert [v.value for v in walked] == [b"Renamed", b"Novak-Home"]
    sha256 = netsnmp.v3("sha256", "SHA-256", "authpass456", "AES-256", "privpass456")
    assert netsnmp.get_values(ep, f"{SSID}.10.2", security=sha256) == [b"Novak-Home"]
    reader = netsnmp.v3("reader", auth_key="authpass789", priv=None)
    assert netsnmp.get_values(ep, f"{SSID}.10.2", security=reader) == [b"Novak-Home"]
    assert netsnmp.get_values(ep, f"{SSID}.10.2") == [b"Novak-Home"]  # v2c still answers with the community


def test_usm_failures_are_reported(net: SimulatedNetwork) -> None:
    ep = net.endpoint("gw")
    with pytest.raises(SnmpError) as wrong_key:
        netsnmp.get(ep, SYS_DESCR, security=netsnmp.v3("noc", auth_key="wrongpass123"))
    assert "Authentication failure" in wrong_key.value.output
    with pytest.raises(SnmpError) as unknown:
        netsnmp.get(ep, SYS_DESCR, security=netsnmp.v3("nobody"))
    assert "Unknown user name" in unknown.value.output
    with pytest.raises(SnmpError) as level:
        netsnmp.get(ep, SYS_DESCR, security=netsnmp.v3("noc", priv=None))
    assert "Unsupported security level" in level.value.output
    counters = net.agent("gw").usm.counters  # type: ignore[union-attr]
    assert counters["1.3.6.1.6.3.15.1.1.5.0"] >= 1 and counters["1.3.6.1.6.3.15.1.1.3.0"] >= 1
    assert net.agent("gw").describe()["engine_id"] == engine_id_for("gw").hex()
    assert "privpass123" not in repr(net.agent("gw").describe())


def test_own_client_sets_secrets_over_auth_priv_and_survives_a_restart(net: SimulatedNetwork) -> None:
    host, port, _ = net.endpoint("gw")
    target = Target(host, port, NOC, timeout=0.5, retries=1)
    secret = "1.3.6.1.4.1.4491.2.5.1.1.7.1.5.1"

    async def run() -> None:
        client = SnmpClient()
        try:
            await client.set(target, [(secret, b"new-passphrase-1"), (f"{SSID}.2.1", 1)], secret=True)
            assert (await client.get(target, [secret]))[secret] == b"new-passphrase-1"
            net.call(net.agent("gw").restart)  # boots + 1, time from 0: the client resynchronises
            values = await client.get(target, [f"{SSID}.10.1", "1.3.6.1.4.1.4491.2.5.1.1.12.1.2.1"])
            assert values == {f"{SSID}.10.1": b"Novak-Home", "1.3.6.1.4.1.4491.2.5.1.1.12.1.2.1": Gauge32(0)}
            with pytest.raises(SnmpAuthError):
                await client.set(Target(host, port, V2c("private")), [(secret, b"x" * 8)], secret=True)
            with pytest.raises(SnmpAuthError, match="decryptionError"):  # wrong privacy key
                await client.get(Target(host, port, V3("noc", "SHA", "authpass123", "AES", "wrongpriv1"),
                                        timeout=0.3, retries=0), [SYS_DESCR])
        finally:
            await client.close()

    asyncio.run(run())
    assert net.agent("gw").usm.counters["1.3.6.1.6.3.15.1.1.6.0"] >= 1  # type: ignore[union-attr]
