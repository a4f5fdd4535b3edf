"""A DOCSIS cable modem: IF-MIB interfaces (ifType 6/127/128/129, optionally 277/278), DOCS-IF-MIB, DOCS-IF3-MIB
and (with ``ofdm``) DOCS-IF31-MIB / DOCS-PNM-MIB readings. Readings depend on the modem's faults, which can be
changed at run time (``Agent.set_faults``); counters stay monotonic across such changes."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from collectors.sim.agent import Agent
from collectors.sim.clock import Moment, Timeline
from collectors.sim.config import ModemConfig
from collectors.sim.counters import RateCounter
from collectors.sim.ifmib import MASK32, MASK64, Interface, add_interfaces, add_system, mac_bytes
from collectors.sim.mib import Dynamic
from collectors.sim.smi import Oid, Value
from collectors.sim.traffic import OctetCounter, daily
from collectors.snmp.values import Counter32, Counter64, Gauge32

if TYPE_CHECKING:
    from collectors.sim.wifi import Wifi

DOCS_IF: Oid = (1, 3, 6, 1, 2, 1, 10, 127, 1)
DS_ENTRY: Oid = (*DOCS_IF, 1, 1, 1)  # docsIfDownstreamChannelEntry
US_ENTRY: Oid = (*DOCS_IF, 1, 2, 1)  # docsIfUpstreamChannelEntry
SIGQ_ENTRY: Oid = (*DOCS_IF, 1, 4, 1)  # docsIfSignalQualityEntry
BASE_CAPABILITY: Oid = (*DOCS_IF, 1, 5, 0)  # docsIfDocsisBaseCapability
CM_STATUS_ENTRY: Oid = (*DOCS_IF, 2, 2, 1)  # docsIfCmStatusEntry
DOCS_IF3: Oid = (1, 3, 6, 1, 4, 1, 4491, 2, 1, 20, 1)
CM3_STATUS_ENTRY: Oid = (*DOCS_IF3, 1, 1)  # docsIf3CmStatusEntry
CM3_US_ENTRY: Oid = (*DOCS_IF3, 2, 1)  # docsIf3CmStatusUsEntry
SIGQ_EXT_ENTRY: Oid = (*DOCS_IF3, 24, 1)  # docsIf3SignalQualityExtEntry
DOCS_IF31: Oid = (1, 3, 6, 1, 4, 1, 4491, 2, 1, 28, 1)
OFDM_PROFILE_ENTRY: Oid = (*DOCS_IF31, 10, 1)  # docsIf31CmDsOfdmProfileStatsEntry
OFDM_POWER_ENTRY: Oid = (*DOCS_IF31, 11, 1)  # docsIf31CmDsOfdmChannelPowerEntry
OFDMA_US_ENTRY: Oid = (*DOCS_IF31, 13, 1)  # docsIf31CmUsOfdmaChanEntry
PNM_RXMER_ENTRY: Oid = (1, 3, 6, 1, 4, 1, 4491, 2, 1, 27, 1, 2, 5, 1)  # docsPnmCmDsOfdmRxMerEntry

OPERATIONAL = 12
QAM256 = 4
ANNEX_A = 3
IF_ETHERNET, IF_MAC, IF_DS, IF_US, IF_OFDM, IF_OFDMA = 6, 127, 128, 129, 277, 278
DS_CHANNEL_BPS = 55_616_000  # EuroDOCSIS 256-QAM, 8 MHz
US_CHANNEL_BPS = 30_720_000  # 64-QAM, 6.4 MHz
OFDM_BPS = 1_890_000_000
OFDMA_BPS = 200_000_000
CODEWORDS_PER_S = 28_000.0
OFDM_BANDS = 32
OFDM_PROFILES = (0, 1)


def ds_indexes(n: int) -> list[int]:
    """ifIndex of downstream channels as modems number them: 3, then 48, 49, …"""
    return [3, *range(48, 48 + n - 1)]


def us_indexes(n: int) -> list[int]:
    """ifIndex of upstream channels: 4, then 80, 81, …"""
    return [4, *range(80, 80 + n - 1)]


class CableModem:
    """RF readings and event counters of one modem as functions of its current faults."""

    def __init__(self, cfg: ModemConfig, seed: int) -> None:
        rng = random.Random(f"{seed}:{cfg.name}:rf")
        self.wifi: Wifi | None = None
        self.faults: frozenset[str] = frozenset(cfg.faults)
        self.ds = ds_indexes(cfg.ds_channels)
        self.us = us_indexes(cfg.us_channels)
        self.phase = rng.uniform(0, 2 * math.pi)
        self.ds_power = rng.randint(-45, 55)
        self.tilt = rng.choice((-4, -2, 0, 2, 4))
        self.snr = rng.randint(380, 412)
        self.us_power = rng.randint(395, 465)
        self.microreflections = rng.randint(18, 32)
        self._counters: list[tuple[RateCounter, Callable[[frozenset[str]], float]]] = []
        uptime = cfg.initial_uptime
        self.resets = rng.randint(1, 6)
        self.lost_syncs = rng.randint(0, 3)
        self.codewords = {(i, kind): self.counter(rate, uptime) for i in self.ds
                          for kind, rate in (("ok", self.rate_ok), ("corrected", self.rate_corrected),
                                             ("uncorrectable", self.rate_uncorrectable))}
        self.t3 = {i: self.counter(self.rate_t3, 0, rng.randint(0, 2)) for i in self.us}
        self.t4 = {i: self.counter(self.rate_t4, 0, rng.randint(0, 1)) for i in self.us}
        self.ofdm_codewords = {(p, kind): self.counter(_scaled(rate, 8 if p else 4), uptime)
                               for p in OFDM_PROFILES
                               for kind, rate in (("total", self.rate_ok), ("corrected", self.rate_corrected),
                                                  ("uncorrectable", self.rate_uncorrectable))}

    def counter(self, rate: Callable[[frozenset[str]], float], seconds: float, extra: int = 0) -> RateCounter:
        value = rate(self.faults)
        counter = RateCounter(value, value * seconds + extra)
        self._counters.append((counter, rate))
        return counter

    def apply_faults(self, faults: frozenset[str], m: Moment) -> None:
        self.faults = faults
        for counter, rate in self._counters:
            counter.set_rate(m, rate(faults))

    # rates per second, by fault
    @staticmethod
    def rate_ok(faults: frozenset[str]) -> float:
        return CODEWORDS_PER_S

    @staticmethod
    def rate_corrected(faults: frozenset[str]) -> float:
        return 180.0 if faults & {"low_snr", "uncorrectables"} else 0.05

    @staticmethod
    def rate_uncorrectable(faults: frozenset[str]) -> float:
        return 15.0 if "uncorrectables" in faults else 4.0 if "low_snr" in faults else 0.002

    @staticmethod
    def rate_t3(faults: frozenset[str]) -> float:
        return 1 / 60 if faults & {"t3_timeouts", "high_tx_power"} else 0.0

    @staticmethod
    def rate_t4(faults: frozenset[str]) -> float:
        return 1 / 600 if "t3_timeouts" in faults else 0.0

    # readings (DOCSIS units: TenthdBmV, TenthdB)
    def _jitter(self, m: Moment, k: int, amplitude: int) -> int:
        return round(amplitude * math.sin(m.elapsed / 9.0 + k * 1.7 + self.phase))

    def rx_power(self, m: Moment, k: int) -> int:
        if "low_rx_power" in self.faults:
            base = -165 + 3 * (k % 3)
        elif "high_rx_power" in self.faults:
            base = 165 + 3 * (k % 3)
        else:
            base = self.ds_power + self.tilt * k
        return base + self._jitter(m, k, 3)

    def snr_tenths(self, m: Moment, k: int) -> int:
        base = 272 + (k % 3) * 4 if "low_snr" in self.faults else self.snr - k % 4
        return base + self._jitter(m, k + 11, 2)

    def rxmer_tenths(self, m: Moment, k: int) -> int:
        return self.snr_tenths(m, k) + 4

    def ofdm_band_power(self, m: Moment, band: int) -> int:
        return self.rx_power(m, band % 8) - 10

    def tx_power(self, m: Moment, k: int) -> int:
        base = 535 + 3 * k if "high_tx_power" in self.faults else self.us_power + 5 * k
        return base + self._jitter(m, k + 23, 2)


def _scaled(rate: Callable[[frozenset[str]], float], factor: float) -> Callable[[frozenset[str]], float]:
    return lambda faults: rate(faults) * factor


def _put(agent: Agent, oid: Oid, value: Value | Dynamic) -> None:
    if callable(value):
        agent.mib.put_dynamic(oid, value)
    else:
        agent.mib.put(oid, value)


def _c32(counter: RateCounter) -> Dynamic:
    return lambda m: Counter32(counter.value(m) & MASK32)


def _c64(counter: RateCounter) -> Dynamic:
    return lambda m: Counter64(counter.value(m) & MASK64)


def modem_interfaces(cfg: ModemConfig, timeline: Timeline, seed: int, mac: bytes) -> list[Interface]:
    """LAN, CATV MAC, SC-QAM (and OFDM) channels with traffic at the subscriber's share of the package."""
    rng = random.Random(f"{seed}:{cfg.name}:traffic")
    use = cfg.busy_hour_use if cfg.busy_hour_use is not None else rng.uniform(0.08, 0.45)
    shift = rng.uniform(-1.0, 1.0)
    down = cfg.download_mbps * 1e6 * use
    up = cfg.upload_mbps * 1e6 * use

    def counter(bps: float, capacity: float, key: str) -> OctetCounter:
        peak = min(bps / capacity, 0.9)
        return OctetCounter(capacity, daily(peak, 0.1, timeline, f"{seed}:{cfg.name}:{key}", shift), timeline)

    ds_share = down / 2 if cfg.ofdm else down
    n_ds, n_us = cfg.ds_channels, cfg.us_channels
    ifaces = [
        Interface(1, "eth0", IF_ETHERNET, 1e9, descr="LAN Ethernet", mac=mac,
                  inbound=counter(up, 1e9, "lan-in"), outbound=counter(down, 1e9, "lan-out")),
        Interface(2, "cable-mac", IF_MAC, n_ds * DS_CHANNEL_BPS, descr="CATV MAC", mac=mac,
                  inbound=counter(down, n_ds * DS_CHANNEL_BPS + (OFDM_BPS if cfg.ofdm else 0), "mac-in"),
                  outbound=counter(up, n_us * US_CHANNEL_BPS, "mac-out")),
    ]
    for k, index in enumerate(ds_indexes(n_ds)):
        ifaces.append(Interface(index, f"ds{k}", IF_DS, DS_CHANNEL_BPS, descr=f"Downstream channel {k + 1}",
                                inbound=counter(ds_share / n_ds, DS_CHANNEL_BPS, f"ds{k}")))
    for k, index in enumerate(us_indexes(n_us)):
        ifaces.append(Interface(index, f"us{k}", IF_US, US_CHANNEL_BPS, descr=f"Upstream channel {k + 1}",
                                outbound=counter(up / n_us, US_CHANNEL_BPS, f"us{k}")))
    if cfg.ofdm:
        ifaces.append(Interface(160, "ofdm0", IF_OFDM, OFDM_BPS, descr="OFDM downstream",
                                inbound=counter(down / 2, OFDM_BPS, "ofdm")))
        ifaces.append(Interface(176, "ofdma0", IF_OFDMA, OFDMA_BPS, descr="OFDMA upstream"))
    return sorted(ifaces, key=lambda i: i.index)


def build_modem(agent: Agent, cfg: ModemConfig, timeline: Timeline, seed: int) -> CableModem:
    """Fill ``agent`` with a cable modem's MIB; returns the modem model (kept as ``agent.state``)."""
    mac = mac_bytes(cfg.mac) if cfg.mac else random.Random(f"{seed}:{cfg.name}:mac").randbytes(6)
    modem = CableModem(cfg, seed)
    descr = cfg.sys_descr or (f"<<HW_REV: 1.0; VENDOR: {cfg.vendor}; BOOTR: 2.4.0; SW_REV: {cfg.sw_rev}; "
                              f"MODEL: {cfg.model}>>")
    add_system(agent, descr, cfg.sys_object_id, cfg.sys_contact, cfg.sys_location, services=2)
    interfaces = modem_interfaces(cfg, timeline, seed, mac)
    add_interfaces(agent.mib, interfaces)
    agent.info.update({"mac": ":".join(f"{b:02x}" for b in mac), "vendor": cfg.vendor, "model": cfg.model,
                       "faults": sorted(modem.faults), "interfaces": [i.describe() for i in interfaces]})
    _put(agent, BASE_CAPABILITY, 5 if cfg.ofdm else 4)  # docsis31(5) / docsis30(4)
    for k, i in enumerate(modem.ds):
        _put(agent, (*DS_ENTRY, 1, i), k + 1)
        _put(agent, (*DS_ENTRY, 2, i), 602_000_000 + 8_000_000 * k)
        _put(agent, (*DS_ENTRY, 3, i), 8_000_000)
        _put(agent, (*DS_ENTRY, 4, i), QAM256)
        _put(agent, (*DS_ENTRY, 5, i), 5)  # taps12increment17
        _put(agent, (*DS_ENTRY, 6, i), partial(modem.rx_power, k=k))
        _put(agent, (*DS_ENTRY, 7, i), ANNEX_A)
        ok, corr, unc = (modem.codewords[(i, kind)] for kind in ("ok", "corrected", "uncorrectable"))
        _put(agent, (*SIGQ_ENTRY, 1, i), 2)  # IncludesContention: false
        _put(agent, (*SIGQ_ENTRY, 2, i), _c32(ok))
        _put(agent, (*SIGQ_ENTRY, 3, i), _c32(corr))
        _put(agent, (*SIGQ_ENTRY, 4, i), _c32(unc))
        _put(agent, (*SIGQ_ENTRY, 5, i), partial(modem.snr_tenths, k=k))
        _put(agent, (*SIGQ_ENTRY, 6, i), modem.microreflections)
        _put(agent, (*SIGQ_ENTRY, 8, i), _c64(ok))
        _put(agent, (*SIGQ_ENTRY, 9, i), _c64(corr))
        _put(agent, (*SIGQ_ENTRY, 10, i), _c64(unc))
        _put(agent, (*SIGQ_EXT_ENTRY, 1, i), partial(modem.rxmer_tenths, k=k))
        _put(agent, (*SIGQ_EXT_ENTRY, 2, i), Gauge32(4096))  # RxMerSamples
    for k, i in enumerate(modem.us):
        _put(agent, (*US_ENTRY, 1, i), k + 1)
        _put(agent, (*US_ENTRY, 2, i), 30_200_000 + 6_400_000 * k)
        _put(agent, (*US_ENTRY, 3, i), 6_400_000)
        _put(agent, (*CM3_US_ENTRY, 1, i), partial(modem.tx_power, k=k))
        _put(agent, (*CM3_US_ENTRY, 2, i), _c32(modem.t3[i]))
        _put(agent, (*CM3_US_ENTRY, 3, i), _c32(modem.t4[i]))
        _put(agent, (*CM3_US_ENTRY, 4, i), Counter32(0))  # RangingAborteds
    mac_if = 2
    t3_total: Dynamic = lambda m: Counter32(sum(modem.t3[i].value(m) for i in modem.us) & MASK32)  # noqa: E731
    t4_total: Dynamic = lambda m: Counter32(sum(modem.t4[i].value(m) for i in modem.us) & MASK32)  # noqa: E731
    status: dict[int, Value | Dynamic] = {
        1: OPERATIONAL,
        3: lambda m: modem.tx_power(m, 0),
        4: lambda m: Counter32(modem.resets + m.epoch),
        5: Counter32(modem.lost_syncs),
        6: Counter32(0), 7: Counter32(0), 10: Counter32(0), 11: Counter32(0),
        12: t3_total,
        13: t4_total,
        14: Counter32(0),
    }
    for column, value in status.items():
        _put(agent, (*CM_STATUS_ENTRY, column, mac_if), value)
    _put(agent, (*CM3_STATUS_ENTRY, 1, mac_if), OPERATIONAL)
    if cfg.ofdm:
        _add_ofdm(agent, modem)
    return modem


def _add_ofdm(agent: Agent, modem: CableModem) -> None:
    ofdm, ofdma = 160, 176
    for band in range(1, OFDM_BANDS + 1):
        _put(agent, (*OFDM_POWER_ENTRY, 3, ofdm, band), partial(modem.ofdm_band_power, band=band))
    for profile in OFDM_PROFILES:
        for column, kind in ((3, "total"), (4, "corrected"), (5, "uncorrectable")):
            _put(agent, (*OFDM_PROFILE_ENTRY, column, ofdm, profile), _c64(modem.ofdm_codewords[(profile, kind)]))
    _put(agent, (*OFDMA_US_ENTRY, 10, ofdma), lambda m: (modem.tx_power(m, 1) * 4 + 5) // 10)
    _put(agent, (*PNM_RXMER_ENTRY, 3, ofdm), lambda m: modem.rxmer_tenths(m, 0) * 10 - 150)
