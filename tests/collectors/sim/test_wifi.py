"""CLAB-WIFI-MIB on a simulated gateway: a secondary SSID created with SETs, applied on commit, and SETs refused
the way an agent built from the MIB refuses them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors.sim import SimulatedNetwork
from tests.collectors.sim import netsnmp
from tests.collectors.sim.netsnmp import Endpoint, SnmpError

W = "1.3.6.1.4.1.4491.2.5.1.1"
COMMIT = f"{W}.1.6.0"
SSID = f"{W}.4.1"  # .2 Enable .3 Status .5 Name .7 LowerLayers .10 SSID .11 RowStatus
AP = f"{W}.6.1"  # .2 Enable .3 Status .5 SSIDReference .6 Advertise .13 RowStatus .15 Isolation .16 MaxAssoc .25 Count
SEC = f"{W}.7.1"  # .2 ModeEnabled .5 KeyPassphrase .11 Rowstatus
POLICY_BANDWIDTH = f"{W}.12.1.2"
CREATE_AND_GO, CREATE_AND_WAIT, DESTROY = "4", "5", "6"


@pytest.fixture
def net() -> Iterator[SimulatedNetwork]:
    config = {"agents": [{"kind": "gateway", "name": "gw", "community": "private", "mac": "02:00:00:00:01:02",
                          "wifi": {"ssid": "Novak-Home", "passphrase": "correct-horse-42"}}]}
    with SimulatedNetwork(config) as network:
        yield network


def failed(endpoint: Endpoint, *triples: str) -> SnmpError:
    with pytest.raises(SnmpError) as failure:
        netsnmp.set_(endpoint, *triples)
    return failure.value


def test_primary_ssid_is_preset(net: SimulatedNetwork) -> None:
    ep = net.endpoint("gw")
    assert netsnmp.get_values(ep, f"{SSID}.10.1", f"{SSID}.10.2", f"{SSID}.3.1", f"{SSID}.5.2", f"{AP}.5.2",
                              f"{SEC}.2.1", f"{SEC}.5.1", COMMIT) == [
        b"Novak-Home", b"Novak-Home", 1, b"wl1", 2, 5, b"correct-horse-42", 2]
    assert net.agent("gw").info["wifi"]["primary_ssid"] == "Novak-Home"


def test_secondary_ssid_is_created_and_applied_on_commit(net: SimulatedNetwork) -> None:
    ep = net.endpoint("gw")
    netsnmp.set_(ep,
                 f"{SSID}.11.3", "i", CREATE_AND_GO, f"{SSID}.10.3", "s", "NOC-Community", f"{SSID}.2.3", "i", "1",
                 f"{SSID}.7.3", "s", "Device.WiFi.Radio.1",
                 f"{AP}.13.3", "i", CREATE_AND_GO, f"{AP}.5.3", "u", "3", f"{AP}.2.3", "i", "1",
                 f"{AP}.15.3", "i", "1", f"{AP}.16.3", "u", "10",
                 f"{SEC}.11.3", "i", CREATE_AND_GO, f"{SEC}.2.3", "i", "5", f"{SEC}.5.3", "s", "community-pass-1",
                 f"{SEC}.4.3", "x", "ab" * 32,
                 f"{POLICY_BANDWIDTH}.3", "u", "50")
    configured = [f"{SSID}.10.3", f"{SSID}.2.3", f"{SSID}.11.3", f"{AP}.5.3", f"{AP}.15.3", f"{AP}.16.3",
                  f"{SEC}.5.3", f"{SEC}.4.3", f"{POLICY_BANDWIDTH}.3"]
    expected = [b"NOC-Community", 1, 1, 3, 1, 10, b"community-pass-1", b"\xab" * 32, 50]
    assert netsnmp.get_values(ep, *configured) == expected
    status = [f"{SSID}.3.3", f"{AP}.3.3", f"{AP}.25.3"]
    assert netsnmp.get_values(ep, *status) == [2, 1, 0]  # down, disabled: not applied yet
    assert [s["ssid"] for s in net.agent("gw").state.wifi.ssids()] == ["Novak-Home", "Novak-Home"]
    netsnmp.set_(ep, COMMIT, "i", "1")
    assert netsnmp.get_values(ep, *status, COMMIT) == [1, 2, 0, 2]  # up, enabled; commit reads false
    assert netsnmp.get_values(ep, *configured) == expected
    applied = net.agent("gw").state.wifi.ssids()
    assert applied[-1] == {"id": 3, "ssid": "NOC-Community", "enabled": True, "up": True}
    assert netsnmp.get_values(ep, f"{SSID}.5.3") == [b"wl0.1"]


def test_rows_wait_destroy_and_take_commit_in_the_same_request(net: SimulatedNetwork) -> None:
    ep = net.endpoint("gw")
    netsnmp.set_(ep, f"{SSID}.11.5", "i", CREATE_AND_WAIT, f"{SSID}.10.5", "s", "Waiting")
    assert netsnmp.get_values(ep, f"{SSID}.11.5", f"{POLICY_BANDWIDTH}.5") == [2, 0]  # notInService
    netsnmp.set_(ep, f"{SSID}.11.5", "i", "1", f"{SSID}.2.5", "i", "1", COMMIT, "i", "1")
    assert netsnmp.get_values(ep, f"{SSID}.11.5", f"{SSID}.3.5") == [1, 1]
    netsnmp.set_(ep, f"{SSID}.11.5", "i", DESTROY, COMMIT, "i", "1")
    assert [v.type for v in netsnmp.get(ep, f"{SSID}.10.5", f"{POLICY_BANDWIDTH}.5")] == ["noSuchInstance"] * 2
    assert [s["id"] for s in net.agent("gw").state.wifi.ssids()] == [1, 2]


@pytest.mark.parametrize(("triples", "reason", "index"), [
    ((f"{SSID}.3.1", "i", "2"), "notWritable", 0),  # clabWIFISSIDStatus is read-only
    ((f"{SSID}.5.1", "s", "wl9"), "notWritable", 0),  # clabWIFISSIDName is read-only
    ((f"{AP}.25.1", "u", "9"), "notWritable", 0),
    ((f"{SSID}.10.1", "s", "x" * 33), "wrongLength", 0),
    ((f"{SEC}.5.1", "s", "p" * 64), "wrongLength", 0),
    ((f"{SEC}.4.1", "x", "00" * 31), "wrongLength", 0),  # a pre-shared key is 0 or 32 octets
    ((f"{SSID}.2.1", "i", "3"), "wrongValue", 0),
    ((f"{SEC}.2.1", "i", "10"), "wrongValue", 0),
    ((f"{SSID}.11.1", "i", "3"), "wrongValue", 0),  # notReady cannot be set
    ((f"{SSID}.2.1", "s", "true"), "wrongType", 0),
    ((f"{AP}.5.1", "i", "1"), "wrongType", 0),  # SSIDReference is Unsigned32
    ((f"{SSID}.10.7", "s", "no-row"), "noCreation", 0),
    ((f"{AP}.13.100", "i", CREATE_AND_GO), "noCreation", 0),  # clabWIFIAccessPointId is 1..99
    ((f"{SSID}.11.1", "i", CREATE_AND_GO), "inconsistentValue", 0),
    ((f"{SSID}.10.1", "s", "Changed", f"{SSID}.3.1", "i", "1"), "notWritable", 3),
])
def test_refused_sets_change_nothing(net: SimulatedNetwork, triples: tuple[str, ...], reason: str,
                                     index: int) -> None:
    ep = net.endpoint("gw")
    before = netsnmp.walk(ep, W)
    failure = failed(ep, *triples)
    assert failure.reason == reason
    assert f"Failed object: .{triples[index]}" in failure.output
    assert netsnmp.walk(ep, W) == before
