"""``noc demo``: the embedded default on SQLite with every capability's demo part, the API and the scheduler.

The API answers (``/api/v1/health`` included) as soon as the data is seeded; the simulated network and the
scheduled jobs start right after, in the background. Ports are picked free, so two demos (or a demo and the
test suite) can run on one machine at once.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import threading
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from noc.api import create_app
from noc.capabilities import parts, runtime
from noc.core.capability import DemoContext, DemoPart
from noc.core.cli import CliError, out
from noc.core.db import Database, server_pool_size
from noc.core.scheduler import build_scheduler
from noc.core.settings import Settings
from noc.migrations import upgrade

log = logging.getLogger("noc.demo")
LAYOUT_FILE = "demo.json"
DEVICE_PORTS = 5
"""UDP ports the simulated routers, CMTS and OLT take from the device base."""
CPE_PORTS = 200
CPE_OFFSET = 10_000
"""The simulated CPEs answer from device base + this."""
PORT_BASES = range(20161, 30000 - CPE_PORTS, 500)
"""Candidate device bases, tried in order until every port of the layout is free."""


def demo_settings(data_dir: Path, host: str, port: int) -> Settings:
    """Settings of the embedded default: SQLite and files in ``data_dir``, whatever the environment says."""
    return Settings(data_dir=data_dir, database_url=f"sqlite:///{(data_dir / 'noc.db').resolve()}",
                    api_host=host, api_port=port, influx_url=None, poll_segment_interval_s=10,
                    poll_cpe_interval_s=60, rollup_period_s=30, mail_dispatch_interval_s=3,
                    public_url=f"http://{host}:{port}")


def reserve_udp(ports: Iterable[int], host: str = "127.0.0.1") -> list[socket.socket] | None:
    """Bind every port of ``ports`` (UDP) and keep them, so no other demo picks them; None if one is taken."""
    held: list[socket.socket] = []
    for port in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        held.append(sock)
        try:
            sock.bind((host, port))
        except OSError:
            release(held)
            return None
    return held


def release(sockets: Iterable[socket.socket]) -> None:
    """Close reserved sockets (just before the simulated network binds the same ports)."""
    for sock in sockets:
        sock.close()


def layout_ports(base: int) -> list[int]:
    """Every UDP port the simulated network takes with device base ``base``."""
    return [*range(base, base + DEVICE_PORTS), *range(base + CPE_OFFSET, base + CPE_OFFSET + CPE_PORTS)]


def simulator_ports(data_dir: Path, wanted: int | None) -> tuple[int, list[socket.socket]]:
    """The device port base and its ports, reserved: ``wanted``, else the saved base while it is free, else the
    first free range.

    Kept in ``demo.json`` so the inventory's ports stay put across restarts when they can.
    """
    path = data_dir / LAYOUT_FILE
    saved = int(json.loads(path.read_text())["device_port_base"]) if path.exists() else None
    if wanted is not None:
        held = reserve_udp(layout_ports(wanted))
        if held is None:
            raise CliError(f"--sim-port-base {wanted}: some of UDP {wanted}-{wanted + DEVICE_PORTS - 1} or "
                           f"{wanted + CPE_OFFSET}-{wanted + CPE_OFFSET + CPE_PORTS - 1} is taken; pick another")
        base = wanted
    else:
        candidates = [saved] if saved is not None else []
        for base in [*candidates, *PORT_BASES]:
            if (held := reserve_udp(layout_ports(base))) is not None:
                break
        else:
            raise CliError("no free UDP range for the simulated network; free one or give --sim-port-base")
    path.write_text(json.dumps({"device_port_base": base, "cpe_port_base": base + CPE_OFFSET}) + "\n")
    return base, held


def api_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``port`` when it is free on ``host``, otherwise (or for 0) on a free port.

    With SO_REUSEADDR two processes may both bind a port no one listens on yet; the second one's ``listen``
    then fails, and it takes a free port as well."""
    try:
        return _listening(host, port)
    except OSError:
        return _listening(host, 0)


def _listening(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def run(data_dir: Path, *, reset: bool = False, host: str = "127.0.0.1", port: int = 8000,
        sim_port_base: int | None = None) -> None:
    """Seed the demo (once), serve the API, then start the simulated network and the jobs; until Ctrl-C."""
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    base, reserved = simulator_ports(data_dir, sim_port_base)
    listener = api_socket(host, port)
    chosen = int(listener.getsockname()[1])
    settings = demo_settings(data_dir, host, chosen)
    db = Database(settings.resolved_database_url(), pool_size=server_pool_size(settings))
    upgrade(db)
    rt = runtime(settings, db)
    ctx = DemoContext(rt, data_dir, base, base + CPE_OFFSET, before_bind=lambda: release(reserved))
    demo_parts: list[DemoPart] = [part for _, part in parts("demo")]
    for part in demo_parts:
        if part.seed is not None:
            part.seed(ctx)
    app = create_app(settings, scheduler=False, rt=rt)
    url = f"http://{host}:{chosen}"
    if chosen != port:
        out.print(f"port {port} is taken: serving on {chosen}")
    out.print(f"noc demo on [bold]{url}[/bold]  health {url}/api/v1/health  docs {url}/api/docs  "
              f"OpenAPI {url}/api/v1/openapi.json  (Ctrl-C stops)", highlight=False)
    with ExitStack() as running:
        starter = threading.Thread(target=_start_background, args=(app, ctx, demo_parts, running),
                                   name="noc-demo-start", daemon=True)
        starter.start()
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=chosen, log_config=None, access_log=False))
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after its graceful shutdown
            server.run(sockets=[listener])
        starter.join()
        scheduler = app.state.scheduler  # set only after the API stopped, if Ctrl-C came during the start
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)


def _start_background(app: FastAPI, ctx: DemoContext, demo_parts: list[DemoPart], running: ExitStack) -> None:
    """Start every part's background work (the simulated network), then the scheduled jobs."""
    try:
        for part in demo_parts:
            if part.run is not None:
                running.enter_context(part.run(ctx))
        scheduler = build_scheduler(ctx.runtime, (p for _, p in parts("jobs")))
        scheduler.start()
        app.state.scheduler = scheduler  # the API's shutdown stops it
    except Exception:
        log.exception("the demo could not start its simulated network or jobs")
        return
    for note in ctx.notes:
        out.print(note, highlight=False)
    out.print("demo ready: the simulated network is polled live; watch /api/v1/capacity/now and /api/v1/health/cpes",
              highlight=False)
