"""Fixtures of the live-check tests: simulated CPEs (healthy, unhealthy, offline) in the inventory of subscribers
with known contact numbers, tokens per role, and the API served by uvicorn on loopback (streams are real HTTP)."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from collectors.sim import SimulatedNetwork
from noc.api import create_app
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from tests.conftest import free_port
from tests.support.api import role_tokens

COMMUNITY = "live-test"
MODEMS = {"fine": [], "sick": ["low_snr", "high_tx_power"], "off": ["offline"]}


def inventory(endpoints: dict[str, tuple[str, int]]) -> dict[str, list[dict[str, Any]]]:
    """S-1 (one healthy gateway), S-2 (an unhealthy modem and an offline one), S-3 (no contact number)."""
    def cpe(n: int, serial: str, modem: str, subscriber: str, profile: str = "docsis-cm") -> dict[str, Any]:
        host, port = endpoints[modem]
        return {"serial": serial, "mac": f"02:00:00:00:01:{n:02x}", "model": "TC4400",
                "profile": profile, "subscriber": subscriber, "segment": "sg-1", "credential": "sim",
                "address": host, "port": port}

    return copy.deepcopy({
        "credentials": [{"name": "sim", "version": "v2c", "community": COMMUNITY}],
        "packages": [{"code": "cable-100", "name": "Kabel 100/10", "download_mbps": 100, "upload_mbps": 10}],
        "subscribers": [
            {"number": "S-1", "username": "jnovak", "name": "Janez Novak", "phone": "+386 41 123 456"},
            {"number": "S-2", "username": "mhorvat", "name": "Maja Horvat", "phone": "+386 40 555 010"},
            {"number": "S-3", "username": "nophone", "name": "Brez Telefona"},
        ],
        "contracts": [{"subscriber": n, "package": "cable-100", "start_date": "2024-01-01"}
                      for n in ("S-1", "S-2", "S-3")],
        "segments": [{"name": "agg-1", "kind": "aggregation"},
                     {"name": "sg-1", "kind": "access", "parent": "agg-1", "capacity_down_mbps": 1000,
                      "capacity_up_mbps": 100}],
        "cpes": [cpe(1, "CM-FINE", "fine", "S-1", "docsis-gw"), cpe(2, "CM-SICK", "sick", "S-2"),
                 cpe(3, "CM-OFF", "off", "S-2"), cpe(4, "CM-S3", "fine", "S-3")],
    })


@pytest.fixture(scope="module")
def modems() -> Iterator[SimulatedNetwork]:
    config = {"agents": [{"kind": "gateway" if name == "fine" else "cable_modem", "name": name,
                          "community": COMMUNITY, "faults": faults} for name, faults in MODEMS.items()]}
    with SimulatedNetwork(config) as network:
        yield network


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Readings as often as allowed (every 2 s) and a short CPE timeout, so that streams show things quickly."""
    return settings.model_copy(update={"live_reading_interval_s": 2.0, "live_timeout_s": 0.6})


@pytest.fixture
def net(db: Database, rt: Runtime, modems: SimulatedNetwork) -> Database:
    endpoints = {name: modems.endpoint(name)[:2] for name in MODEMS}
    with db.session() as s:
        import_rows(document_rows("t", inventory(endpoints)),
                    InventoryWriter(s, SYSTEM, rt.secret_box(CREDENTIALS_PURPOSE), rt.events))
    return db


@pytest.fixture
def tokens(net: Database) -> dict[str, str]:
    return role_tokens(net)


class Server:
    """The noc API served by uvicorn in a thread on a free loopback port."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings, db, scheduler=False), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def server(settings: Settings, net: Database) -> Iterator[Server]:
    with Server(settings, net) as running:
        yield running


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client
