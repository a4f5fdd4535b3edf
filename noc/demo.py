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

from noc.api import create_app
from noc.audit.service import Actor
from noc.auth.roles import Role
from noc.auth.service import add_user, issue_token, revoke_tokens, user_by_name
from noc.crypto import SecretBox
from noc.db import Database
from noc.inventory.demo_data import demo_document
from noc.inventory.importer import ImportReport, document_rows, import_rows
from noc.inventory.models import Subscriber
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.settings import Settings

DEMO_ACTOR = Actor(name="demo", role="admin")
TOKENS_FILE = "tokens.json"


@dataclass
class DemoContext:
    """What a demo part gets: the demo's settings and database."""

    settings: Settings
    db: Database


DemoPart = Callable[[DemoContext], AbstractContextManager[object]]
DEMO_PARTS: list[DemoPart] = []
"""Context managers entered around the running demo (e.g. the simulated network and its pollers)."""


def demo_settings(data_dir: Path, host: str, port: int) -> Settings:
    """Settings of the embedded default: SQLite and files in ``data_dir``, whatever the environment says."""
    return Settings(data_dir=data_dir, database_url=f"sqlite:///{(data_dir / 'noc.db').resolve()}",
                    api_host=host, api_port=port, influx_url=None)


def prepare(
    data_dir: Path, *, reset: bool, host: str = "127.0.0.1", port: int = 8000
) -> tuple[DemoContext, dict[str, str], ImportReport | None]:
    """Create (or reuse) the demo's data directory, schema, inventory and role tokens."""
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(data_dir, host, port)
    db = Database(settings.resolved_database_url())
    db.upgrade()
    report = None
    with db.session() as s:
        if s.query(Subscriber.id).first() is None:
            writer = InventoryWriter(s, DEMO_ACTOR, SecretBox(settings.resolved_secret_key(), CREDENTIALS_PURPOSE),
                                     reason="demo inventory", via="demo")
            report = import_rows(document_rows("demo", demo_document()), writer)
        tokens = {}
        for role in Role:
            name = f"demo-{role.value.replace('_', '-')}"
            user = user_by_name(s, name) or add_user(s, name, role, DEMO_ACTOR)
            revoke_tokens(s, user, DEMO_ACTOR)
            tokens[role.value] = issue_token(s, user, DEMO_ACTOR, label="demo")
    write_tokens(data_dir / TOKENS_FILE, tokens)
    return DemoContext(settings, db), tokens, report


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
