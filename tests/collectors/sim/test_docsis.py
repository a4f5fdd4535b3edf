"""Cable modems over UDP: REFERENCE.md §7 objects found the way a poller finds them (by ifType), healthy and
unhealthy readings, offline modems, faults changed at run time, and the fleet generator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors.sim import FleetConfig, ManualClock, ModemConfig, SimulatedNetwork
from collectors.sim.build import build_agent
from collectors.sim.clock import Timeline
from tests.collectors.sim import netsnmp
from tests.collectors.sim.netsnmp import Endpoint, SnmpError

IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
DS_POWER = "1.3.6.1.2.1.10.127.1.1.1.1.6"
DS_MODULATION = "1.3.6.1.2.1.10.127.1.1.1.1.4"
SNR = "1.3.6.1.2.1.10.127.1.1.4.1.5"
CODEWORDS = {"unerrored": "1.3.6.1.2.1.10.127.1.1.4.1.8", "corrected": "1.3.6.1.2.1.10.127.1.1.4.1.9",
             "uncorrectable": "1.3.6.1.2.1.10.127.1.1.4.1.10"}
CM_STATUS = "1.3.6.1.2.1.10.127.1.2.2.1"  # .1 value .3 tx power .4 resets .5 lost syncs .12 T3 .13 T4
CM3_STATUS_VALUE = "1.3.6.1.4.1.4491.2.1.20.1.1.1.1"
CM3_US_TX_POWER = "1.3.6.1.4.1.4491.2.1.20.1.2.1.1"
CM3_US_T3 = "1.3.6.1.4.1.4491.2.1.20.1.2.1.2"
RX_MER = "1.3.6.1.4.1.4491.2.1.20.1.24.1.1"
OFDM_POWER = "1.3.6.1.4.1.4491.2.1.28.1.11.1.3"
OFDM_PROFILE_TOTAL = "1.3.6.1.4.1.4491.2.1.28.1.10.1.3"
OFDMA_TX_POWER = "1.3.6.1.4.1.4491.2.1.28.1.13.1.10"
OPERATIONAL = 12


@pytest.fixture(scope="module")
def net() -> Iterator[SimulatedNetwork]:
    def modem(name: str, *faults: str, **extra: object) -> dict[str, object]:
        return {"kind": "cable_modem", "name": name, "community": "cm", "faults": list(faults), **extra}
    config = {"agents": [modem("ok"), modem("snr", "low_snr"), modem("tx", "high_tx_power"), modem("off", "offline"),
                         modem("toggle"), modem("d31", kind="gateway", ofdm=True, model="TG3442", vendor="Arris")]}
    with SimulatedNetwork(config) as network:
        yield network


def interfaces_by_type(endpoint: Endpoint) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for var in netsnmp.walk(endpoint, IF_TYPE):
        found.setdefault(var.value, []).append(int(var.oid.rsplit(".", 1)[1]))
    return found


def column(endpoint: Endpoint, base: str, indexes: list[int]) -> list[netsnmp.Var]:
    return netsnmp.get(endpoint, *[f"{base}.{i}" for i in indexes])


def test_healthy_modem_reads_like_a_docsis_3_modem(net: SimulatedNetwork) -> None:
    ep = net.endpoint("ok")
    descr, uptime = netsnmp.get(ep, "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.3.0")
    assert b"MODEL: TC4400" in descr.value and uptime.type == "Timeticks"
    types = interfaces_by_type(ep)
    assert set(types) == {6, 127, 128, 129}
    ds, us, (mac,) = types[128], types[129], types[127]
    assert len(ds) == 8 and len(us) == 4
    assert all(-150 <= v.value <= 150 for v in column(ep, DS_POWER, ds))
    assert all(v.value == 4 for v in column(ep, DS_MODULATION, ds))  # qam256
    assert all(v.value >= 350 for v in column(ep, SNR, ds))
    assert all(v.value >= 350 for v in column(ep, RX_MER, ds))
    assert all(350 <= v.value <= 510 for v in column(ep, CM3_US_TX_POWER, us))
    for base in CODEWORDS.values():
        assert {v.type for v in column(ep, base, ds)} == {"Counter64"}
    status, tx, resets, lost, t3, t4 = netsnmp.get(ep, *[f"{CM_STATUS}.{c}.{mac}" for c in (1, 3, 4, 5, 12, 13)])
    assert status.value == OPERATIONAL and 350 <= tx.value <= 510
    assert {resets.type, lost.type, t3.type, t4.type} == {"Counter32"}
    assert netsnmp.get_values(ep, f"{CM3_STATUS_VALUE}.{mac}") == [OPERATIONAL]


def test_unhealthy_modems(net: SimulatedNetwork) -> None:
    snr_ds = interfaces_by_type(net.endpoint("snr"))[128]
    assert all(v.value < 300 for v in column(net.endpoint("snr"), SNR, snr_ds))
    assert all(v.value < 300 for v in column(net.endpoint("snr"), RX_MER, snr_ds))
    tx_us = interfaces_by_type(net.endpoint("tx"))[129]
    assert all(v.value > 510 for v in column(net.endpoint("tx"), CM3_US_TX_POWER, tx_us))


def test_offline_modem_times_out(net: SimulatedNetwork) -> None:
    with pytest.raises(SnmpError) as failure:
        netsnmp.get(net.endpoint("off"), "1.3.6.1.2.1.1.3.0", timeout=0.3, retries=0)
    assert failure.value.reason == "timeout"


def test_faults_change_at_run_time(net: SimulatedNetwork) -> None:
    ep = net.endpoint("toggle")
    agent = net.agent("toggle")
    net.call(agent.set_faults, ["offline"])
    with pytest.raises(SnmpError):
        netsnmp.get(ep, "1.3.6.1.2.1.1.3.0", timeout=0.3, retries=0)
    net.call(agent.set_faults, ["low_snr"])
    assert all(v.value < 300 for v in column(ep, SNR, [3, 48]))
    net.call(agent.set_faults, [])
    assert all(v.value >= 350 for v in column(ep, SNR, [3, 48]))
    assert agent.info["faults"] == []


def test_docsis_31_gateway_has_ofdm_channels(net: SimulatedNetwork) -> None:
    ep = net.endpoint("d31")
    types = interfaces_by_type(ep)
    (ofdm,), (ofdma,) = types[277], types[278]
    bands = netsnmp.walk(ep, f"{OFDM_POWER}.{ofdm}")
    assert len(bands) == 32 and all(-200 < v.value < 200 for v in bands)
    assert {v.type for v in netsnmp.walk(ep, OFDM_PROFILE_TOTAL)} == {"Counter64"}
    (tx,) = netsnmp.get_values(ep, f"{OFDMA_TX_POWER}.{ofdma}")
    assert 35 * 4 <= tx <= 51 * 4  # QuarterdBmV


def test_codeword_and_timeout_counters_follow_faults_and_stay_monotonic() -> None:
    clock = ManualClock()
    cfg = ModemConfig(kind="cable_modem", name="m", initial_uptime=3600)
    agent = build_agent(cfg, clock, Timeline(), seed=1)
    uncorrectable = (1, 3, 6, 1, 2, 1, 10, 127, 1, 1, 4, 1, 10, 3)
    t3 = (1, 3, 6, 1, 4, 1, 4491, 2, 1, 20, 1, 2, 1, 2, 4)

    def value(oid: tuple[int, ...]) -> int:
        v = agent.mib.value(oid, agent.moment())
        assert isinstance(v, int)
        return v

    start = value(uncorrectable)
    clock.advance(100)
    healthy = value(uncorrectable) - start
    agent.set_faults(["uncorrectables", "t3_timeouts"])
    before, t3_before = value(uncorrectable), value(t3)
    assert before >= start + healthy
    clock.advance(100)
    assert healthy <= 1 and value(uncorrectable) - before >= 1000
    assert value(t3) - t3_before >= 1
    agent.set_faults([])
    after = value(uncorrectable)
    clock.advance(100)
    assert after <= value(uncorrectable) <= after + 1


def test_fleet_is_deterministic_and_spreads_faults() -> None:
    fleet = FleetConfig(count=40, faults={"low_snr": 3, "offline": 2, "high_tx_power": 1})
    first, second = fleet.expand(seed=9), fleet.expand(seed=9)
    assert first == second
    faulty = {a.name: a.faults for a in first if a.faults}
    assert sorted(f for faults in faulty.values() for f in faults) == ["high_tx_power", "low_snr", "low_snr",
                                                                         "low_snr", "offline", "offline"]
    assert all(not (a.kind == "ont" and set(a.faults) - {"offline"}) for a in first)
    assert [a.kind for a in first[:4]] == ["cable_modem", "gateway", "gateway", "ont"]
    assert first[0].mac == "02:00:00:00:00:01" and first[0].name == "cpe-0001"
    assert fleet.expand(seed=10) != first
