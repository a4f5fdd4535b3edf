"""``noc demo``: the embedded default on SQLite with a generated inventory, one token per role, the API
and the scheduler. Later capabilities (the simulated network, polling) join through ``DEMO_PARTS``."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from collectors.sim import SimulatedNetwork
from collectors.sim.demo import demo_config
from noc.api import create_app
from noc.audit.service import Actor
from noc.auth.roles import Role
from noc.auth.service import add_user, issue_token, revoke_tokens, user_by_name
from noc.crypto import SecretBox
from noc.db import Database
from noc.inventory.demo_data import CPE_PORT_BASE, DEVICE_PORT_BASE, demo_document
from noc.inventory.importer import ImportReport, document_rows, import_rows
from noc.inventory.models import Subscriber
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.settings import Settings

DEMO_ACTOR = Actor(name="demo", role="admin")
TOKENS_FILE = "tokens.json"
LAYOUT_FILE = "demo.json"
SUBSCRIBERS = 200


@dataclass
class DemoContext:
    """What a demo part gets: the demo's settings, database and where the simulated devices answer."""

    settings: Settings
    db: Database
    device_port_base: int = DEVICE_PORT_BASE
    cpe_port_base: int = CPE_PORT_BASE


DemoPart = Callable[[DemoContext], AbstractContextManager[object]]


def simulated_network(context: DemoContext) -> AbstractContextManager[object]:
    """The demo inventory's devices and CPEs as SNMP agents on loopback (time runs 60x: a day in 24 min)."""
    config = demo_config(SUBSCRIBERS, cpe_base_port=context.cpe_port_base,
                         device_base_port=context.device_port_base, community="noc-demo")
    return SimulatedNetwork(config)


DEMO_PARTS: list[DemoPart] = [simulated_network]
"""Context managers entered around the running demo; pollers come with the scheduler's jobs."""


def demo_settings(data_dir: Path, host: str, port: int) -> Settings:
    """Settings of the embedded default: SQLite and files in ``data_dir``, whatever the environment says."""
    return Settings(data_dir=data_dir, database_url=f"sqlite:///{(data_dir / 'noc.db').resolve()}",
                    api_host=host, api_port=port, influx_url=None, poll_segment_interval_s=10,
                    poll_cpe_interval_s=60, rollup_period_s=30)


def layout(data_dir: Path, device_port_base: int) -> tuple[int, int]:
    """The demo's port layout: chosen when its data is created, kept in demo.json for later runs."""
    path = data_dir / LAYOUT_FILE
    if path.exists():
        saved = json.loads(path.read_text())
        return int(saved["device_port_base"]), int(saved["cpe_port_base"])
    bases = {"device_port_base": device_port_base, "cpe_port_base": device_port_base + CPE_PORT_BASE - DEVICE_PORT_BASE}
    path.write_text(json.dumps(bases) + "\n")
    return bases["device_port_base"], bases["cpe_port_base"]


def prepare(
    data_dir: Path, *, reset: bool, host: str = "127.0.0.1", port: int = 8000, device_port_base: int = DEVICE_PORT_BASE
) -> tuple[DemoContext, dict[str, str], ImportReport | None]:
    """Create (or reuse) the demo's data directory, schema, inventory and role tokens."""
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    device_base, cpe_base = layout(data_dir, device_port_base)
    settings = demo_settings(data_dir, host, port)
    db = Database(settings.resolved_database_url())
    db.upgrade()
    report = None
    with db.session() as s:
        if s.query(Subscriber.id).first() is None:
            writer = InventoryWriter(s, DEMO_ACTOR, SecretBox(settings.resolved_secret_key(), CREDENTIALS_PURPOSE),
                                     reason="demo inventory", via="demo")
            document = demo_document(SUBSCRIBERS, device_port_base=device_base, cpe_port_base=cpe_base)
            report = import_rows(document_rows("demo", document), writer)
        tokens = {}
        for role in Role:
            name = f"demo-{role.value.replace('_', '-')}"
            user = user_by_name(s, name) or add_user(s, name, role, DEMO_ACTOR)
            revoke_tokens(s, user, DEMO_ACTOR)
            tokens[role.value] = issue_token(s, user, DEMO_ACTOR, label="demo")
    write_tokens(data_dir / TOKENS_FILE, tokens)
    return DemoContext(settings, db, device_base, cpe_base), tokens, report


def write_tokens(path: Path, tokens: dict[str, str]) -> None:
    """Write the role → token map for scripts, readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(tokens, handle, indent=2)
        handle.write("\n")


def run(context: DemoContext) -> None:
    """Serve the API and scheduler until Ctrl-C, with every demo part running around it."""
    settings = context.settings
    with ExitStack() as stack:
        for part in DEMO_PARTS:
            stack.enter_context(part(context))
        app = create_app(settings, context.db)
        uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="info")
    context.db.dispose()
