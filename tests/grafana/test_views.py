"""The views Grafana reads (migration 0011) on SQLite and PostgreSQL, the personal data they must not hold, and
the read-only role that may select from them and from nothing else."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from noc.core.db import Database
from noc.migrations import GRAFANA_READER, VERSIONS, set_reader_password
from tests.grafana.conftest import MAC, PERSONAL, PG_ONLY, SERIAL

PERSONAL_COLUMNS = {"name", "email", "phone", "tax_number", "username", "number", "subscriber_id", "created_by",
                    "destination", "payload", "last_error", "note", "reason", "description", "description_sl",
                    "description_en", "address", "user_id", "actor", "digest", "idempotency_key"}
"""Column names that hold (or may hold) personal data, free text typed by people, or addresses and secrets."""
PERSONAL_TABLES = {"subscribers", "contracts", "notification_opt_outs", "users", "api_tokens", "audit_log",
                   "audit_head", "complaint_cases", "measurements", "maintenance_notices", "snmp_credentials"}
"""Tables no view may read."""


def migration() -> ModuleType:
    """The migration that makes the views (its file name starts with a digit: loaded by path)."""
    (path,) = VERSIONS.glob("0011_*.py")
    spec = importlib.util.spec_from_file_location("grafana_views_migration", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VIEWS: dict[str, str] = migration().VIEWS


def rows(db: Database, view: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with db.engine.connect() as conn:
        result = conn.execute(sa.text(f"SELECT * FROM {view}"))
        return list(result.keys()), [tuple(r) for r in result]


def test_views_exist_and_show_the_rows(filled: Database) -> None:
    names = set(sa.inspect(filled.engine).get_view_names())
    assert set(VIEWS) <= names
    for view in VIEWS:
        columns, found = rows(filled, view)
        assert found, f"{view} is empty"
        assert len(columns) == len(set(columns)), view
    _, cpes = rows(filled, "grafana_cpes")
    assert any(SERIAL in r and MAC in r and "marginal" in r for r in cpes)
    _, forecasts = rows(filled, "grafana_forecasts")
    assert len(forecasts) == 1  # the active forecast ticket; the others are other rules
    columns, poll = rows(filled, "grafana_poll_status")
    targets = {r[columns.index("target")] for r in poll}
    assert targets == {"cmts-test", SERIAL}
    columns, windows = rows(filled, "grafana_maintenance")
    assert len(windows) == 4  # one row per window and segment
    columns, outbox = rows(filled, "grafana_outbox")
    assert sorted(r[columns.index("state")] for r in outbox) == ["dead", "dead", "pending", "sent"]


def test_views_hold_no_personal_data(filled: Database) -> None:
    """The viewer's rule: no names, e-mail addresses, phone or tax numbers, user names, free text by people."""
    for view in VIEWS:
        columns, found = rows(filled, view)
        assert not set(columns) & PERSONAL_COLUMNS, f"{view}: {set(columns) & PERSONAL_COLUMNS}"
        text = repr(found)
        for kind, value in PERSONAL.items():
            for part in {value, value.split("@")[0], value.split()[0]}:
                assert part not in text, f"{view} shows a {kind}"
        assert "8640111222" not in text and "98765432" not in text


def test_views_read_no_personal_tables(filled: Database) -> None:
    for view, query in VIEWS.items():
        read = set(re.findall(r"\w+", query))
        assert not read & PERSONAL_TABLES, f"{view} reads {read & PERSONAL_TABLES}"
    if filled.engine.dialect.name == "postgresql":
        with filled.engine.connect() as conn:
            used = set(conn.execute(sa.text(
                "SELECT view_name, table_name FROM information_schema.view_table_usage "
                "WHERE view_schema = current_schema()")).all())
        assert {view for view, _ in used} == set(VIEWS)
        assert not {table for _, table in used} & PERSONAL_TABLES


# --- the read-only role (PostgreSQL) ---------------------------------------------------------------------------

@PG_ONLY
def test_reader_selects_from_the_views(reader: psycopg.Connection[Any]) -> None:
    for view in VIEWS:
        assert reader.execute(f"SELECT count(*) FROM {view}").fetchone()[0] > 0  # type: ignore[index]
    assert reader.execute("SELECT current_user").fetchone() == (GRAFANA_READER,)


REFUSED = ["SELECT * FROM subscribers", "SELECT * FROM upgrade_tickets", "SELECT * FROM outbox",
           "SELECT * FROM users", "SELECT * FROM segments", "SELECT * FROM alembic_version",
           "INSERT INTO grafana_segments (segment, segment_kind) VALUES ('x', 'core')",
           "UPDATE grafana_outbox SET state = 'sent'", "DELETE FROM grafana_segments", "CREATE TABLE mine (x int)",
           "CREATE VIEW mine AS SELECT 1"]


@PG_ONLY
def test_reader_is_refused_everything_else(reader: psycopg.Connection[Any]) -> None:
    for statement in REFUSED:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute(statement)


def test_sqlite_has_no_roles(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'noc.db'}")
    assert set_reader_password(db, "x") is False
    db.dispose()


def test_db_upgrade_makes_the_views_and_gives_the_reader_its_password(db_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOC_")}
    env.update(NOC_SECRET_KEY="test-secret-key-0123456789", NOC_GRAFANA_DB_PASSWORD="s3cret-for-grafana")
    done = subprocess.run([sys.executable, "-m", "noc", "--data-dir", str(tmp_path / "d"), "--database-url", db_url,
                           "db", "upgrade"], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    said = done.stdout + done.stderr
    assert ("role noc_grafana may log in" in said) == db_url.startswith("postgresql")
    assert "s3cret-for-grafana" not in said
    engine = sa.create_engine(db_url)
    assert set(VIEWS) <= set(sa.inspect(engine).get_view_names())
    engine.dispose()
