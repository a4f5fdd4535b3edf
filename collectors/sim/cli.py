"""``python -m collectors.sim``: serve a simulated network until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections import Counter
from pathlib import Path

import yaml
from pydantic import ValidationError

from collectors.sim.config import NetworkConfig, RecordingConfig
from collectors.sim.demo import COMMUNITY, CPE_PORT_BASE, DEVICE_PORT_BASE, demo_config
from collectors.sim.network import RunningNetwork, serve


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m collectors.sim", description=(
        "Serve simulated SNMPv2c agents on loopback: a configured network (--config), or the demo network "
        "(devices and --cpes CPEs), optionally with .snmprec recordings (--recordings)."))
    p.add_argument("--config", type=Path, help="YAML or JSON network configuration (see docs/simulator.md)")
    p.add_argument("--cpes", type=int, help="demo network with this many CPEs (default 200)")
    p.add_argument("--base-port", type=int, help=f"first CPE port of the demo (default {CPE_PORT_BASE}), or the "
                                                 "first port for agents without one in --config")
    p.add_argument("--device-port", type=int, default=DEVICE_PORT_BASE, help="first device port of the demo")
    p.add_argument("--community", default=COMMUNITY, help="community of the demo agents")
    p.add_argument("--recordings", type=Path, help="serve every *.snmprec file in this folder (community = name)")
    p.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p.add_argument("--speed", type=float, help="simulated seconds per real second (demo default 60)")
    p.add_argument("--start", help="simulated local time at start, HH:MM (demo default 17:00) or 'now'")
    p.add_argument("--seed", type=int, help="seed of every generated value")
    p.add_argument("--codec", choices=["fast", "pysnmp"], help="BER codec (default fast)")
    p.add_argument("--inventory", type=Path, help="write the agents' endpoints and details as JSON to this file")
    p.add_argument("--print-config", action="store_true", help="print the effective configuration as YAML and exit")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def effective_config(args: argparse.Namespace) -> NetworkConfig:
    """The configuration the arguments describe."""
    if args.config:
        config = NetworkConfig.load(args.config)
        if args.base_port:
            config.base_port = args.base_port
    elif args.recordings and args.cpes is None:
        config = NetworkConfig(base_port=args.base_port)
    else:
        config = demo_config(200 if args.cpes is None else args.cpes,
                             cpe_base_port=args.base_port or CPE_PORT_BASE, device_base_port=args.device_port,
                             community=args.community)
    if args.recordings:
        files = sorted(args.recordings.glob("*.snmprec")) + sorted(args.recordings.glob("*.snmprec.bz2"))
        config.agents.extend(RecordingConfig(kind="recording", name=f"rec-{f.name.split('.')[0]}", file=f)
                             for f in files)
    for name in ("host", "speed", "start", "seed", "codec"):
        if getattr(args, name) is not None:
            setattr(config, name, getattr(args, name))
    return NetworkConfig.model_validate(config.model_dump())


def summary(net: RunningNetwork) -> str:
    kinds = Counter(a.kind for a in net)
    ports = sorted(a.port for a in net)
    offline = [a.name for a in net if not a.online]
    unhealthy = [f"{a.name}:{','.join(a.info['faults'])}" for a in net if a.info.get("faults")]
    lines = [f"serving {len(net.agents)} agents ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))}) on "
             f"{net.config.host} ports {ports[0]}-{ports[-1]}" if ports else "serving no agents",
             f"speed {net.config.speed:g}x, start {net.config.start or 'now'}; Ctrl-C to stop"]
    if unhealthy:
        lines.append(f"unhealthy: {' '.join(unhealthy)}")
    if offline:
        lines.append(f"offline (no answer): {' '.join(offline)}")
    return "\n".join(lines)


async def run(config: NetworkConfig, inventory: Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with await serve(config) as net:
        if inventory:
            inventory.write_text(json.dumps(net.inventory(), indent=2) + "\n", encoding="utf-8")
        print(summary(net), flush=True)
        await stop.wait()
    print("stopped", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m collectors.sim`` and ``noc sim``; returns the exit status."""
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = effective_config(args)
    except (ValidationError, ValueError, OSError) as exc:
        print(f"invalid configuration: {exc}", file=sys.stderr)
        return 2
    if args.print_config:
        print(yaml.safe_dump(config.model_dump(mode="json", exclude_defaults=True), sort_keys=False), end="")
        return 0
    try:
        asyncio.run(run(config, args.inventory))
    except OSError as exc:
        print(f"cannot serve: {exc}", file=sys.stderr)
        return 1
    return 0
