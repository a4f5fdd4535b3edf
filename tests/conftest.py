"""Shared fixtures: a fresh database on SQLite and on the local PostgreSQL, and settings around it."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from noc.capabilities import runtime
from noc.core.capability import Runtime
from noc.core.db import Database
from noc.core.settings import Settings
from noc.migrations import upgrade
from tests.support.logscan import LogScan
from tests.support.snmpd import Agent, require

PG_URL = os.environ.get("NOC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
"""The PostgreSQL the tests use; each test gets a schema of its own in it."""


def pytest_configure(config: pytest.Config) -> None:
    """Every run's log is scanned for the test data's secrets and personal values (tests/support/logscan.py)."""
    config.pluginmanager.register(LogScan(), "noc-logscan")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, or a fresh schema in the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'noc.db'}"
        return
    schema = f"noc_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is not reachable (set NOC_TEST_PG_URL): {exc.orig}")
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the fresh database and a temporary data directory."""
    return Settings(data_dir=tmp_path / "data", database_url=db_url, secret_key="test-secret-key-0123456789")


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """The fresh database with the schema migrated to the newest version."""
    database = Database(settings.resolved_database_url())
    database.attach_secret(settings.resolved_secret_key)
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def rt(settings: Settings, db: Database) -> Iterator[Runtime]:
    """A runtime on the fresh database with every capability wired in (as `noc serve` has)."""
    wired = runtime(settings, db)
    yield wired
    wired.close()


def _running_agent(directory: Path) -> Iterator[Agent]:
    require("snmpd")
    require("snmpget")
    agent = Agent(directory)
    agent.start()
    yield agent
    agent.stop()


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """A real net-snmp agent on loopback shared by read-only tests (v2c and v3 users: tests/support/snmpd.py)."""
    yield from _running_agent(tmp_path_factory.mktemp("snmpd"))


@pytest.fixture
def own_snmpd(tmp_path: Path) -> Iterator[Agent]:
    """A real net-snmp agent of the test's own, for restarts and SETs."""
    yield from _running_agent(tmp_path / "snmpd")
