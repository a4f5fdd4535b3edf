"""SNMPv2-MIB system group and IF-MIB (ifTable, ifXTable) builders shared by every dynamic agent."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import cast

from collectors.sim.agent import Agent
from collectors.sim.clock import Moment
from collectors.sim.mib import Dynamic, Mib
from collectors.sim.smi import Oid, Value
from collectors.sim.traffic import OctetCounter
from collectors.snmp.values import Counter32, Counter64, Gauge32, ObjectId, TimeTicks

SYSTEM: Oid = (1, 3, 6, 1, 2, 1, 1)
SYS_UPTIME: Oid = (*SYSTEM, 3, 0)
IF_NUMBER: Oid = (1, 3, 6, 1, 2, 1, 2, 1, 0)
IF_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_ENTRY: Oid = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)

IF_DESCR, IF_TYPE, IF_SPEED, IF_OPER_STATUS = 2, 3, 5, 8
IF_IN_OCTETS, IF_OUT_OCTETS = 10, 16
IFX_NAME, IFX_HC_IN_OCTETS, IFX_HC_OUT_OCTETS, IFX_HIGH_SPEED, IFX_ALIAS = 1, 6, 10, 15, 18

MASK32 = 2**32 - 1
MASK64 = 2**64 - 1
MEAN_PACKET = 800
"""Octets per packet used to derive packet counters from octet counters."""


def uptime_ticks(m: Moment) -> TimeTicks:
    return TimeTicks(int(m.uptime * 100) & MASK32)


def add_system(agent: Agent, descr: str, object_id: str, contact: str, location: str, services: int = 78) -> None:
    """sysDescr … sysServices; sysUpTime follows the agent's restarts."""
    mib = agent.mib
    mib.put((*SYSTEM, 1, 0), descr.encode())
    mib.put((*SYSTEM, 2, 0), ObjectId(object_id))
    mib.put_dynamic(SYS_UPTIME, uptime_ticks)
    mib.put((*SYSTEM, 4, 0), contact.encode())
    mib.put((*SYSTEM, 5, 0), agent.name.encode())
    mib.put((*SYSTEM, 6, 0), location.encode())
    mib.put((*SYSTEM, 7, 0), services)


@dataclass(eq=False)
class Interface:
    """One interface; ``oper_status`` may be changed at run time (the MIB reads it per request)."""

    index: int
    name: str
    if_type: int
    speed_bps: float
    descr: str = ""
    alias: str = ""
    mac: bytes = b""
    mtu: int = 1500
    admin_status: int = 1
    oper_status: int = 1
    inbound: OctetCounter | None = None
    outbound: OctetCounter | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def describe(self) -> dict[str, object]:
        return {"index": self.index, "name": self.name, "type": self.if_type, "speed_mbps": self.speed_bps / 1e6,
                "alias": self.alias, **self.extra}


def _octets(counter: OctetCounter | None, mask: int, kind: type[int]) -> Value | Dynamic:
    if counter is None:
        return kind(0)
    return lambda m: kind(counter.octets(m) & mask)


def _packets(counter: OctetCounter | None) -> Value | Dynamic:
    if counter is None:
        return Counter32(0)
    return lambda m: Counter32(counter.octets(m) // MEAN_PACKET & MASK32)


def _status(iface: Interface, attribute: str, m: Moment) -> Value:
    return cast(int, getattr(iface, attribute))


def add_interfaces(mib: Mib, interfaces: list[Interface]) -> None:
    """ifNumber, ifTable and ifXTable for ``interfaces``."""
    mib.put(IF_NUMBER, len(interfaces))
    for iface in interfaces:
        i = iface.index
        row: dict[tuple[Oid, int], Value | Dynamic] = {
            (IF_ENTRY, 1): i,
            (IF_ENTRY, IF_DESCR): (iface.descr or iface.name).encode(),
            (IF_ENTRY, IF_TYPE): iface.if_type,
            (IF_ENTRY, 4): iface.mtu,
            (IF_ENTRY, IF_SPEED): Gauge32(min(int(iface.speed_bps), MASK32)),
            (IF_ENTRY, 6): iface.mac,
            (IF_ENTRY, 7): partial(_status, iface, "admin_status"),
            (IF_ENTRY, IF_OPER_STATUS): partial(_status, iface, "oper_status"),
            (IF_ENTRY, 9): TimeTicks(0),
            (IF_ENTRY, IF_IN_OCTETS): _octets(iface.inbound, MASK32, Counter32),
            (IF_ENTRY, 11): _packets(iface.inbound),
            (IF_ENTRY, 13): Counter32(0),
            (IF_ENTRY, 14): Counter32(0),
            (IF_ENTRY, IF_OUT_OCTETS): _octets(iface.outbound, MASK32, Counter32),
            (IF_ENTRY, 17): _packets(iface.outbound),
            (IF_ENTRY, 19): Counter32(0),
            (IF_ENTRY, 20): Counter32(0),
            (IFX_ENTRY, IFX_NAME): iface.name.encode(),
            (IFX_ENTRY, IFX_HC_IN_OCTETS): _octets(iface.inbound, MASK64, Counter64),
            (IFX_ENTRY, IFX_HC_OUT_OCTETS): _octets(iface.outbound, MASK64, Counter64),
            (IFX_ENTRY, 14): 1,  # ifLinkUpDownTrapEnable: enabled
            (IFX_ENTRY, IFX_HIGH_SPEED): Gauge32(round(iface.speed_bps / 1e6)),
            (IFX_ENTRY, 16): 2,  # ifPromiscuousMode: false
            (IFX_ENTRY, 17): 1,  # ifConnectorPresent: true
            (IFX_ENTRY, IFX_ALIAS): iface.alias.encode(),
        }
        for (table, column), value in row.items():
            oid = (*table, column, i)
            if callable(value):
                mib.put_dynamic(oid, value)
            else:
                mib.put(oid, value)


def mac_bytes(text: str) -> bytes:
    """``"02:00:00:00:00:01"`` → 6 octets."""
    parts = bytes(int(p, 16) for p in text.replace("-", ":").split(":"))
    if len(parts) != 6:
        raise ValueError(f"invalid MAC {text!r}")
    return parts
