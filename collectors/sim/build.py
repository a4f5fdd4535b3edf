"""Agents from configuration: routers, CMTSs, OLTs and switches, cable modems and gateways, ONTs, recordings."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from collectors.sim.agent import Agent
from collectors.sim.clock import Clock, Moment, Timeline
from collectors.sim.config import (
    AgentBase,
    DeviceConfig,
    InterfaceConfig,
    ModemConfig,
    OntConfig,
    RecordingConfig,
    ShapeConfig,
)
from collectors.sim.docsis import build_modem
from collectors.sim.ifmib import Interface, add_interfaces, add_system, mac_bytes
from collectors.sim.snmprec import build_recording
from collectors.sim.traffic import OctetCounter, Shape, climb, daily, flat
from collectors.sim.usm_agent import AgentUsm, engine_id_for
from collectors.sim.wifi import Wifi

DESCRIPTIONS = {
    "router": "Simulated router (noc collectors.sim)",
    "cmts": "Simulated CMTS (noc collectors.sim)",
    "olt": "Simulated GPON OLT (noc collectors.sim)",
    "switch": "Simulated switch (noc collectors.sim)",
}


def shape(cfg: ShapeConfig, timeline: Timeline, seed: str) -> Shape:
    """A configured shape as a ``traffic.Shape``."""
    if cfg.kind == "daily":
        return daily(cfg.peak, cfg.noise, timeline, seed, cfg.shift_hours)
    if cfg.kind == "climb":
        return climb(cfg.start, cfg.peak, cfg.ramp_minutes * 60, cfg.noise, seed)
    return flat(cfg.peak, cfg.noise, seed)


def _interface(agent: str, cfg: InterfaceConfig, timeline: Timeline, seed: int) -> Interface:
    bps = cfg.speed_mbps * 1e6
    key = f"{seed}:{agent}:{cfg.index}"
    mac = bytes((0x02, *random.Random(key).randbytes(5)))
    return Interface(
        cfg.index, cfg.name, cfg.type, bps, descr=cfg.descr or cfg.name, alias=cfg.alias, mac=mac,
        admin_status=cfg.admin_status, oper_status=cfg.oper_status,
        inbound=OctetCounter(bps, shape(cfg.inbound, timeline, f"{key}:in"), timeline, cfg.initial_in_octets),
        outbound=OctetCounter(bps, shape(cfg.outbound, timeline, f"{key}:out"), timeline, cfg.initial_out_octets),
        extra={"inbound": cfg.inbound.model_dump(), "outbound": cfg.outbound.model_dump()},
    )


class DeviceState:
    """Run-time handles of a router/CMTS/OLT: its interfaces by ifIndex (change ``oper_status`` freely)."""

    def __init__(self, interfaces: Iterable[Interface]) -> None:
        self.interfaces = {i.index: i for i in interfaces}

    def utilization(self, index: int, direction: str, moment: Moment) -> float:
        """The configured utilization (0..1) of an interface direction at ``moment``."""
        iface = self.interfaces[index]
        counter = iface.inbound if direction == "in" else iface.outbound
        return 0.0 if counter is None else counter.rate_bps(moment) / iface.speed_bps


def build_device(agent: Agent, cfg: DeviceConfig, timeline: Timeline, seed: int) -> DeviceState:
    add_system(agent, cfg.sys_descr or DESCRIPTIONS[cfg.kind], cfg.sys_object_id, cfg.sys_contact, cfg.sys_location)
    interfaces = [_interface(cfg.name, i, timeline, seed) for i in sorted(cfg.interfaces, key=lambda i: i.index)]
    add_interfaces(agent.mib, interfaces)
    agent.info["interfaces"] = [i.describe() for i in interfaces]
    return DeviceState(interfaces)


def build_ont(agent: Agent, cfg: OntConfig, timeline: Timeline, seed: int) -> DeviceState:
    rng = random.Random(f"{seed}:{cfg.name}:traffic")
    mac = mac_bytes(cfg.mac) if cfg.mac else rng.randbytes(6)
    use = cfg.busy_hour_use if cfg.busy_hour_use is not None else rng.uniform(0.05, 0.3)
    key = f"{seed}:{cfg.name}"
    pon_down, pon_up = 2_488_320_000, 1_244_160_000

    def counter(bps: float, capacity: float, part: str) -> OctetCounter:
        return OctetCounter(capacity, daily(min(bps / capacity, 0.9), 0.1, timeline, f"{key}:{part}"), timeline)

    down, up = cfg.download_mbps * 1e6 * use, cfg.upload_mbps * 1e6 * use
    interfaces = [
        Interface(1, "pon0", 250, pon_down, descr="GPON uplink", mac=mac,
                  inbound=counter(down, pon_down, "pon-in"), outbound=counter(up, pon_up, "pon-out")),
        Interface(2, "eth0", 6, 1e9, descr="LAN Ethernet", mac=mac,
                  inbound=counter(up, 1e9, "lan-in"), outbound=counter(down, 1e9, "lan-out")),
    ]
    add_system(agent, cfg.sys_descr or f"{cfg.vendor} {cfg.model}", cfg.sys_object_id, cfg.sys_contact,
               cfg.sys_location, services=2)
    add_interfaces(agent.mib, interfaces)
    agent.info.update({"mac": ":".join(f"{b:02x}" for b in mac), "vendor": cfg.vendor, "model": cfg.model,
                       "faults": sorted(cfg.faults), "interfaces": [i.describe() for i in interfaces]})
    return DeviceState(interfaces)


def _base(cfg: AgentBase, kind: str, clock: Clock, timeline: Timeline, host: str) -> Agent:
    agent_usm = None
    if cfg.v3_users:
        engine_id = bytes.fromhex(cfg.engine_id) if cfg.engine_id else engine_id_for(cfg.name)
        agent_usm = AgentUsm.of(engine_id, [user.credentials() for user in cfg.v3_users])
    return Agent(
        name=cfg.name, community=cfg.community.encode(), kind=kind, clock=clock, timeline=timeline,
        online=cfg.online, initial_uptime=cfg.initial_uptime, restart_every=cfg.restart_every,
        restart_downtime=cfg.restart_downtime, max_response_size=cfg.max_response_size,
        bulk_too_big=cfg.bulk_too_big, host=cfg.host or host, port=cfg.port or 0, usm=agent_usm,
    )


def build_agent(cfg: DeviceConfig | ModemConfig | OntConfig | RecordingConfig, clock: Clock, timeline: Timeline,
                seed: int, host: str = "127.0.0.1") -> Agent:
    """One agent, its MIB filled and its run-time state in ``agent.state``."""
    agent = _base(cfg, cfg.kind, clock, timeline, host)
    state: Any
    if isinstance(cfg, DeviceConfig):
        state = build_device(agent, cfg, timeline, seed)
    elif isinstance(cfg, ModemConfig):
        state = build_modem(agent, cfg, timeline, seed)
        if cfg.wifi is not None:
            state.wifi = Wifi(agent, cfg.wifi, mac_bytes(agent.info["mac"]), seed)
            agent.add_writer(state.wifi)
            agent.info["wifi"] = {"primary_ssid": state.wifi.primary_ssid, "radios": cfg.wifi.radios}
    elif isinstance(cfg, OntConfig):
        state = build_ont(agent, cfg, timeline, seed)
    else:
        state = build_recording(agent, cfg.file, cfg.writable)
    agent.state = state
    if "offline" in agent.info.get("faults", ()):
        agent.online = False
    return agent
