"""The demo network: the devices and CPEs of noc's demo inventory (``noc/inventory/demo_data.py``), with the same
names, ports, interface indexes, community, SNMPv3 user of the gateways, MACs and packages, so ``noc demo`` can
poll it as it is."""

from __future__ import annotations

from typing import Any

from collectors.sim.config import (
    DeviceConfig,
    FleetConfig,
    InterfaceConfig,
    ModemConfig,
    NetworkConfig,
    ShapeConfig,
    V3UserConfig,
)

DEVICE_PORT_BASE = 20161
CPE_PORT_BASE = 30161
COMMUNITY = "noc-demo"
PACKAGES = [(100, 10), (250, 25), (500, 50)]
"""Download/upload Mbit/s of cable subscriber ``i`` by ``i % 3``; ONTs have 1000/300."""
CLIMBING_SEGMENT = "sg-maribor-1"
V3_USER = V3UserConfig(user="noc-wifi", auth_proto="SHA256", auth_key="demo-auth-key-1", priv_proto="AES",
                       priv_key="demo-priv-key-1")
"""The SNMPv3 authPriv user of every demo gateway (Wi-Fi secrets are written only over authPriv)."""


def _daily(peak: float, shift: float = 0.0) -> ShapeConfig:
    return ShapeConfig(kind="daily", peak=peak, noise=0.04, shift_hours=shift)


def _uplink(index: int, name: str, down: float, up: float, speed: float = 10_000) -> InterfaceConfig:
    return InterfaceConfig(index=index, name=name, type=6, speed_mbps=speed, alias=name,
                           inbound=_daily(down), outbound=_daily(up))


def demo_devices(community: str = COMMUNITY, base_port: int | None = DEVICE_PORT_BASE,
                 climb_minutes: float = 180.0) -> list[DeviceConfig]:
    """border-1, core-1, agg-1 (restarts every 30 minutes), cmts-1 (one climbing segment) and olt-1; ports from
    ``base_port`` in that order (None: any free port)."""
    def port(i: int) -> int | None:
        return None if base_port is None else base_port + i

    access = [("sg-ljubljana-1", 1001, 2001, _daily(0.62), _daily(0.45)),
              ("sg-ljubljana-2", 1002, 2002, _daily(0.55, 0.5), _daily(0.35)),
              (CLIMBING_SEGMENT, 1003, 2003,
               ShapeConfig(kind="climb", start=0.45, peak=0.85, ramp_minutes=climb_minutes, noise=0.03),
               _daily(0.4))]
    cmts_ifaces = [_uplink(1, "cmts-uplink", 0.45, 0.08)]
    for name, down_if, up_if, down, up in access:
        cmts_ifaces.append(InterfaceConfig(index=down_if, name=f"{name}-ds", type=128, speed_mbps=1600, alias=name,
                                           descr=f"Downstream service group {name}", outbound=down))
        cmts_ifaces.append(InterfaceConfig(index=up_if, name=f"{name}-us", type=129, speed_mbps=200, alias=name,
                                           descr=f"Upstream service group {name}", inbound=up))
    common: dict[str, Any] = {"community": community, "initial_uptime": 86400 * 12}
    return [
        DeviceConfig(kind="router", name="border-1", port=port(0), **common, interfaces=[
            # 10G at up to ~55 %: ifInOctets (Counter32) wraps every few seconds, ifHCInOctets does not
            _uplink(1, "intl-transit-1", 0.55, 0.2),
            _uplink(2, "to-core-1", 0.2, 0.55)]),
        DeviceConfig(kind="router", name="core-1", port=port(1), **common, interfaces=[
            _uplink(1, "core-lj", 0.5, 0.18),
            # 1G at up to 40 %: the 32-bit counter wraps every few minutes
            _uplink(2, "access-1g", 0.4, 0.1, speed=1000)]),
        DeviceConfig(kind="router", name="agg-1", port=port(2), restart_every=1800, restart_downtime=15,
                     **common, interfaces=[_uplink(1, "agg-lj", 0.45, 0.15)]),
        DeviceConfig(kind="cmts", name="cmts-1", port=port(3), **common, interfaces=cmts_ifaces),
        DeviceConfig(kind="olt", name="olt-1", port=port(4), **common, interfaces=[
            _uplink(1, "olt-uplink", 0.4, 0.1),
            InterfaceConfig(index=3001, name="pon-celje-1", type=250, speed_mbps=2488, alias="pon-celje-1",
                            outbound=_daily(0.5), inbound=_daily(0.2))]),
    ]


def demo_config(cpes: int = 200, *, cpe_base_port: int | None = CPE_PORT_BASE,
                device_base_port: int | None = DEVICE_PORT_BASE,
                community: str = COMMUNITY, speed: float = 60.0, start: str | None = "17:00", seed: int = 7,
                host: str = "127.0.0.1") -> NetworkConfig:
    """The demo network; at ``speed`` 60 a simulated day takes 24 minutes and the climbing segment passes 70 %
    about two minutes after the start."""
    fleet = FleetConfig(count=cpes, community=community, base_port=cpe_base_port, v3_users=[V3_USER])
    cpe_agents = fleet.expand(seed)
    for i, agent in enumerate(cpe_agents):
        if agent.kind != "ont":
            agent.download_mbps, agent.upload_mbps = PACKAGES[i % 3]
    unhealthy = next((a for a in cpe_agents if isinstance(a, ModemConfig) and a.faults == ["low_snr"]), None)
    if unhealthy is not None:  # the live check's demo caller: low SNR and high transmit power at once
        unhealthy.faults = ["low_snr", "high_tx_power"]
    return NetworkConfig(host=host, speed=speed, start=start, seed=seed,
                         agents=[*demo_devices(community, device_base_port), *cpe_agents])
