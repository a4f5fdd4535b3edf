"""A simulated network answering real SNMPv2c on loopback: routers, a CMTS and an OLT whose counters follow
traffic shapes, DOCSIS cable modems and Wi-Fi gateways (healthy or not), and ``.snmprec`` recordings.

    async with await serve(config) as net: ...          # in asyncio code
    with SimulatedNetwork(config) as net: ...           # from synchronous code (own loop thread)
    python -m collectors.sim --cpes 200                 # from the shell; ``main(argv)`` for ``noc sim``

See docs/simulator.md for the configuration.
"""

from __future__ import annotations

from collectors.sim.agent import Agent
from collectors.sim.cli import main
from collectors.sim.clock import ManualClock, RealClock
from collectors.sim.config import (
    DeviceConfig,
    FleetConfig,
    InterfaceConfig,
    ModemConfig,
    NetworkConfig,
    OntConfig,
    RecordingConfig,
    ShapeConfig,
    WifiConfig,
)
from collectors.sim.demo import demo_config
from collectors.sim.network import RunningNetwork, SimulatedNetwork, serve
from collectors.sim.snmprec import format_snmprec, load_snmprec, parse_snmprec

__all__ = [
    "Agent", "DeviceConfig", "FleetConfig", "InterfaceConfig", "ManualClock", "ModemConfig", "NetworkConfig",
    "OntConfig", "RealClock", "RecordingConfig", "RunningNetwork", "ShapeConfig", "SimulatedNetwork", "WifiConfig",
    "demo_config", "format_snmprec", "load_snmprec", "main", "parse_snmprec", "serve",
]
