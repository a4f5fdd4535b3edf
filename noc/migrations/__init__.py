"""The schema of every enabled capability's tables: Alembic migrations.

Reading the newest revision costs no Alembic import (``noc poll`` must start fast); only :func:`upgrade` loads it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from noc.core.db import Database

VERSIONS = Path(__file__).parent / "versions"
_REVISION = re.compile(r'^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:"([^"]*)"|None)', re.MULTILINE)


@cache
def head_revision() -> str:
    """The newest migration's revision id, read from the version files (their one linear chain)."""
    parents: dict[str, str | None] = {}
    for path in VERSIONS.glob("*.py"):
        found = {m[1]: m[2] or None for m in _REVISION.finditer(path.read_text(encoding="utf-8"))}
        if found.get("revision"):
            parents[str(found["revision"])] = found.get("down_revision")
    heads = set(parents) - {p for p in parents.values() if p}
    if len(heads) != 1:
        raise RuntimeError(f"migrations in {VERSIONS} have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["engine"] = db.engine
    command.upgrade(config, revision)


GRAFANA_READER = "noc_grafana"
"""The PostgreSQL role of Grafana's data source: it may select from the ``grafana_*`` views only (migration 0011)."""


def set_reader_password(db: Database, password: str) -> bool:
    """Let :data:`GRAFANA_READER` log in with ``password`` (PostgreSQL only; False on other databases)."""
    if db.engine.dialect.name != "postgresql":
        return False
    from psycopg import sql

    statement = sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(sql.Identifier(GRAFANA_READER),
                                                                       sql.Literal(password))
    raw = db.engine.raw_connection()
    try:
        raw.cursor().execute(statement)
        raw.commit()
    finally:
        raw.close()
    return True
