"""The whole API under schemathesis (every operation, every check, an admin token, the app on SQLite): no server
error, every answer as the OpenAPI document says, nothing valid by the document refused."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from noc.api import create_app
from noc.core.crypto import SecretBox
from noc.core.db import Database
from noc.core.events import EventBus
from noc.core.security import SYSTEM
from noc.core.settings import Settings
from noc.inventory.importer import document_rows, import_rows
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.migrations import upgrade
from tests.foundation.helpers import SMALL_INVENTORY
from tests.support.api import auth, role_tokens

EXAMPLES = 25
"""Examples per operation (bounded so the suite stays fast)."""


def build() -> tuple[FastAPI, str]:
    """The app on a fresh SQLite file with the small test inventory, and an admin token."""
    data = Path(tempfile.mkdtemp(prefix="noc-schemathesis-"))
    conf = Settings(data_dir=data, database_url=f"sqlite:///{data / 'noc.db'}", secret_key="test-secret-key-0123456789",
                    api_auth_failures_per_min=1_000_000)  # its checks send bad tokens on purpose
    db = Database(conf.resolved_database_url())
    db.attach_secret(conf.resolved_secret_key)
    upgrade(db)
    with db.session() as s:
        box = SecretBox(conf.resolved_secret_key(), CREDENTIALS_PURPOSE)
        import_rows(document_rows("t", copy.deepcopy(SMALL_INVENTORY)), InventoryWriter(s, SYSTEM, box, EventBus()))
    return create_app(conf, db, scheduler=False), role_tokens(db)["admin"]


APP, TOKEN = build()
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=auth(TOKEN))
