"""The simulated network's configuration (pydantic; loadable from YAML or JSON). See docs/simulator.md."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collectors.snmp.auth import V3
from collectors.snmp.usm import check_credentials

Fault = Literal["low_snr", "low_rx_power", "high_rx_power", "high_tx_power", "uncorrectables", "t3_timeouts",
                "offline"]
FAULTS: tuple[str, ...] = get_args(Fault)
LINE_FAULTS = frozenset(FAULTS) - {"offline"}
"""Faults that only make sense on a DOCSIS modem's RF side."""

IF_TYPES = {
    "other": 1, "ethernet": 6, "ethernetCsmacd": 6, "docsCableMaclayer": 127, "docsCableDownstream": 128,
    "docsCableUpstream": 129, "ieee8023adLag": 161, "gpon": 250, "docsOfdmDownstream": 277,
    "docsOfdmaUpstream": 278,
}
"""IANAifType names accepted in ``interfaces[].type`` besides numbers."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShapeConfig(Strict):
    """Utilization of one interface direction over simulated time (fractions of the interface speed)."""

    kind: Literal["daily", "climb", "flat"] = "daily"
    peak: float = Field(0.5, ge=0, le=1, description="daily: busy-hour level; climb: level reached; flat: level")
    start: float = Field(0.3, ge=0, le=1, description="climb: level at the network's start")
    ramp_minutes: float = Field(180.0, gt=0, description="climb: simulated minutes from start to peak")
    noise: float = Field(0.03, ge=0, le=0.15, description="noise amplitude as a fraction of peak")
    shift_hours: float = Field(0.0, ge=-12, le=12, description="daily: move the busy hour")

    @model_validator(mode="after")
    def _bounded(self) -> ShapeConfig:
        if self.peak * (1 + self.noise) > 1 + 1e-9:
            raise ValueError("peak × (1 + noise) must not exceed 1 (100 % utilization)")
        if self.kind == "climb" and self.noise * self.peak > self.start + 1e-9:
            raise ValueError("climb: noise × peak must not exceed start (utilization would go negative)")
        return self


IDLE = ShapeConfig(kind="flat", peak=0.0, noise=0.0)


class InterfaceConfig(Strict):
    """One IF-MIB interface of a router, CMTS, OLT or switch."""

    index: int = Field(ge=1, le=2**31 - 1)
    name: str
    descr: str | None = None
    type: int = 6
    speed_mbps: float = Field(gt=0)
    alias: str = ""
    inbound: ShapeConfig = IDLE
    outbound: ShapeConfig = IDLE
    admin_status: int = Field(1, ge=1, le=3)
    oper_status: int = Field(1, ge=1, le=7)
    initial_in_octets: int = Field(0, ge=0)
    initial_out_octets: int = Field(0, ge=0)

    @field_validator("type", mode="before")
    @classmethod
    def _if_type(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.isdigit():
            if value not in IF_TYPES:
                raise ValueError(f"unknown ifType {value!r}; use a number or one of {sorted(IF_TYPES)}")
            return IF_TYPES[value]
        return value


class V3UserConfig(Strict):
    """An SNMPv3 USM user of an agent (protocol names as ``collectors.snmp.auth`` accepts them; no protocol and
    no key = that level is not used: authNoPriv without ``priv_proto``, noAuthNoPriv without ``auth_proto``)."""

    user: str = Field(min_length=1, max_length=32)
    auth_proto: str | None = None
    auth_key: str | None = Field(None, min_length=8)
    priv_proto: str | None = None
    priv_key: str | None = Field(None, min_length=8)

    def credentials(self) -> V3:
        """The user as client credentials (what a manager must present)."""
        creds = V3(self.user, self.auth_proto, self.auth_key, self.priv_proto, self.priv_key)  # type: ignore[arg-type]
        check_credentials(creds)
        return creds

    @model_validator(mode="after")
    def _usable(self) -> V3UserConfig:
        self.credentials()  # ValueError for unknown protocols or keys without their protocol
        return self


class AgentBase(Strict):
    """What every agent has."""

    name: str = Field(min_length=1, max_length=64)
    community: str = "public"
    host: str | None = None
    port: int | None = Field(None, ge=0, le=65535)
    sys_descr: str | None = None
    sys_object_id: str = "1.3.6.1.4.1.8072.3.2.10"
    sys_contact: str = "noc@example.net"
    sys_location: str = "simulated"
    online: bool = True
    initial_uptime: float = Field(0.0, ge=0, description="seconds the agent had been up when the network started")
    restart_every: float | None = Field(None, gt=0, description="real seconds between scheduled restarts")
    restart_downtime: float = Field(0.0, ge=0, description="real seconds of silence after each restart")
    max_response_size: int = Field(65507, ge=484, le=65507)
    bulk_too_big: bool = Field(False, description="answer tooBig instead of truncating oversized GETBULK responses")
    v3_users: list[V3UserConfig] = Field([], description="SNMPv3 USM users; none = the agent ignores SNMPv3")
    engine_id: str | None = Field(None, pattern=r"^[0-9a-fA-F]{10,64}$",
                                  description="snmpEngineID in hex; default derived from the name")


class DeviceConfig(AgentBase):
    """A router, CMTS, OLT or switch: system group and IF-MIB interfaces whose counters follow traffic shapes."""

    kind: Literal["router", "cmts", "olt", "switch"]
    interfaces: list[InterfaceConfig] = []

    @model_validator(mode="after")
    def _unique_indexes(self) -> DeviceConfig:
        indexes = [i.index for i in self.interfaces]
        if len(indexes) != len(set(indexes)):
            raise ValueError(f"{self.name}: interface indexes must be unique")
        return self


class WifiConfig(Strict):
    """The CLAB-WIFI-MIB side of a gateway: primary SSID on each radio, secondary SSIDs created by SET."""

    ssid: str | None = Field(None, max_length=32, description="primary SSID; default derived from the MAC")
    passphrase: str | None = Field(None, min_length=8, max_length=63)
    security_mode: int = Field(5, ge=1, le=9, description="wpa2Personal(5)")
    radios: int = Field(2, ge=1, le=3, description="one primary SSID row per radio: ids 1..radios")
    associated_devices: list[int] = [3, 5]
    faults: list[Literal["refuse_sets", "silent_on_set", "drop_isolation"]] = Field(
        [], description="refuse_sets: SETs creating a secondary SSID fail (resourceUnavailable); silent_on_set: the "
                        "gateway stops answering at its first Wi-Fi SET, which it does not apply; drop_isolation: "
                        "client isolation of secondary SSIDs reads back off")


class ModemConfig(AgentBase):
    """A DOCSIS cable modem, or a gateway (modem + Wi-Fi)."""

    kind: Literal["cable_modem", "gateway"]
    mac: str | None = None
    vendor: str = "Technicolor"
    model: str = "TC4400"
    sw_rev: str = "70.12.42"
    ds_channels: int = Field(8, ge=1, le=32)
    us_channels: int = Field(4, ge=1, le=8)
    ofdm: bool = Field(False, description="add a DOCSIS 3.1 OFDM downstream and OFDMA upstream channel")
    download_mbps: float = Field(250.0, gt=0)
    upload_mbps: float = Field(25.0, gt=0)
    busy_hour_use: float | None = Field(None, ge=0, le=1, description="share of the package used at busy hour")
    faults: list[Fault] = []
    wifi: WifiConfig | None = None

    @model_validator(mode="after")
    def _gateway_wifi(self) -> ModemConfig:
        if self.kind == "gateway" and self.wifi is None:
            self.wifi = WifiConfig()
        return self


class OntConfig(AgentBase):
    """A GPON ONT: system group and IF-MIB (PON and LAN interfaces)."""

    kind: Literal["ont"]
    mac: str | None = None
    vendor: str = "Huawei"
    model: str = "HG8245H"
    download_mbps: float = Field(1000.0, gt=0)
    upload_mbps: float = Field(300.0, gt=0)
    busy_hour_use: float | None = Field(None, ge=0, le=1)
    faults: list[Literal["offline"]] = []


class RecordingConfig(AgentBase):
    """An agent replaying a ``.snmprec`` file; community defaults to the file name without ``.snmprec``."""

    kind: Literal["recording"]
    community: str = ""
    file: Path
    writable: bool = Field(False, description="keep SETs of existing objects (same type) in memory")

    @model_validator(mode="after")
    def _community(self) -> RecordingConfig:
        if not self.community:
            self.community = self.file.name.removesuffix(".snmprec")
        return self


AgentConfig = Annotated[DeviceConfig | ModemConfig | OntConfig | RecordingConfig, Field(discriminator="kind")]


class FleetModel(Strict):
    """One CPE model of a fleet; fleets cycle through their models."""

    kind: Literal["cable_modem", "gateway", "ont"]
    vendor: str
    model: str
    download_mbps: float = 250.0
    upload_mbps: float = 25.0
    ofdm: bool = False


DEFAULT_FLEET_MODELS = [
    FleetModel(kind="cable_modem", vendor="Technicolor", model="TC4400", download_mbps=250, upload_mbps=25),
    FleetModel(kind="gateway", vendor="Arris", model="TG3442", download_mbps=500, upload_mbps=50, ofdm=True),
    FleetModel(kind="gateway", vendor="Arris", model="TG3442", download_mbps=100, upload_mbps=10, ofdm=True),
    FleetModel(kind="ont", vendor="Huawei", model="HG8245H", download_mbps=1000, upload_mbps=300),
]


class FleetConfig(Strict):
    """Many CPE agents generated from a few lines: names ``{prefix}{n:04d}``, MACs ``{mac_prefix}:hi:lo`` (n from
    1), models cycled, and a few deterministic (seeded) unhealthy ones."""

    count: int = Field(0, ge=0, le=65535)
    prefix: str = "cpe-"
    community: str = "public"
    base_port: int | None = Field(None, ge=1, le=65535)
    mac_prefix: str = "02:00:00:00"
    models: list[FleetModel] = DEFAULT_FLEET_MODELS
    faults: dict[Fault, int] = {"low_snr": 2, "high_tx_power": 2, "uncorrectables": 1, "offline": 2}
    ds_channels: int = Field(8, ge=1, le=32)
    us_channels: int = Field(4, ge=1, le=8)
    v3_users: list[V3UserConfig] = Field([], description="SNMPv3 users of every gateway of the fleet")

    def expand(self, seed: int) -> list[ModemConfig | OntConfig]:
        """The fleet as individual agent configs."""
        rng = random.Random(f"{seed}:fleet")
        kinds = [self.models[i % len(self.models)].kind for i in range(self.count)]
        docsis = [i for i, kind in enumerate(kinds) if kind != "ont"]
        assigned: dict[int, list[str]] = {}
        for fault, number in self.faults.items():
            pool = [i for i in (docsis if fault in LINE_FAULTS else range(self.count)) if i not in assigned]
            for i in rng.sample(pool, min(number, len(pool))):
                assigned[i] = [fault]
        agents: list[ModemConfig | OntConfig] = []
        for i in range(self.count):
            model = self.models[i % len(self.models)]
            n = i + 1
            common: dict[str, Any] = {
                "name": f"{self.prefix}{n:04d}", "community": self.community,
                "port": self.base_port + i if self.base_port else None,
                "mac": f"{self.mac_prefix}:{n >> 8 & 0xFF:02x}:{n & 0xFF:02x}", "vendor": model.vendor,
                "model": model.model, "download_mbps": model.download_mbps, "upload_mbps": model.upload_mbps,
                "faults": assigned.get(i, []), "initial_uptime": rng.uniform(3600, 40 * 86400),
            }
            if model.kind == "ont":
                agents.append(OntConfig(kind="ont", **common))
            else:
                users = self.v3_users if model.kind == "gateway" else []
                agents.append(ModemConfig(kind=model.kind, ofdm=model.ofdm, ds_channels=self.ds_channels,
                                          us_channels=self.us_channels, v3_users=users, **common))
        return agents


class NetworkConfig(Strict):
    """The whole simulated network."""

    host: str = "127.0.0.1"
    base_port: int | None = Field(None, ge=1, le=65535, description="ports for agents without one; None = any free")
    speed: float = Field(1.0, gt=0, le=10000, description="simulated seconds per real second")
    start: str | None = Field(None, description="simulated local time at start: HH:MM[:SS], ISO datetime or now")
    seed: int = 1
    codec: Literal["fast", "pysnmp"] = "fast"
    agents: list[AgentConfig] = []
    fleet: FleetConfig | None = None

    def all_agents(self) -> list[DeviceConfig | ModemConfig | OntConfig | RecordingConfig]:
        """Explicit agents followed by the expanded fleet; names must be unique."""
        agents = [*self.agents, *(self.fleet.expand(self.seed) if self.fleet else [])]
        names = [a.name for a in agents]
        if len(names) != len(set(names)):
            duplicates = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"agent names must be unique: {duplicates}")
        return agents

    @classmethod
    def load(cls, path: str | Path) -> NetworkConfig:
        """Read a YAML or JSON file; relative recording paths are resolved against the file's folder."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        config = cls.model_validate(data or {})
        for agent in config.agents:
            if isinstance(agent, RecordingConfig) and not agent.file.is_absolute():
                agent.file = path.parent / agent.file
        return config
