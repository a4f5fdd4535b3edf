"""Database engine, sessions and schema migrations (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, Float, MetaData, NullPool, create_engine, event, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every noc table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class epoch_seconds(FunctionElement[float]):
    """Seconds since 1970 (UTC) of a :class:`UTCDateTime` column, as a float computed by the database (to the
    millisecond on SQLite, the microsecond on PostgreSQL): cheap to read in bulk where times are only compared
    (no datetime object per row)."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"round((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0, 3)"


@compiles(epoch_seconds)
def _epoch_default(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date_part('epoch', {compiler.process(element.clauses, **kw)})"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def private_file(path: Path) -> None:
    """Make ``path`` (and its directory) readable by its owner only: directory 0700, file 0600, created empty
    when missing (SQLite gives its -wal and -shm files the database file's mode)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.parent.stat().st_mode & 0o077:
        path.parent.chmod(0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for sibling in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if sibling.exists() and sibling.stat().st_mode & 0o077:
            sibling.chmod(0o600)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and write-locking transactions."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        private_file(Path(url.removeprefix("sqlite:///")))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event below emit BEGIN
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so a read-then-write transaction (the audit
        # chain's head, upserts) never fails half-way on a snapshot another writer moved. Read-only
        # sessions (READ_ONLY execution option) begin deferred and never wait for or block a writer.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


JOB_CONNECTIONS = 10
"""Connections kept for the background jobs beside the API's request threads."""


def server_pool_size(settings: Any) -> int:
    """The pool a process serving the API needs: two connections per request admitted at once (its session and
    the token lookup or the audit of a personal read), and the jobs'."""
    return 2 * int(settings.api_threads) + JOB_CONNECTIONS


SECRET_KEY_INFO = "noc.secret_key"
DERIVED_KEYS_INFO = "noc.derived_keys"
"""Keys of :attr:`Database.info` (and so of every session's ``info``)."""

READ_ONLY = "noc_read_only"
"""Execution option of the engine behind :meth:`Database.read_session`."""


class Database:
    """One engine and its session factories (read-write, and read-only).

    ``pool_size`` connections are kept open, :data:`JOB_CONNECTIONS` more are opened under load; a server sizes
    it to the requests it admits at once (:func:`server_pool_size`). ``info`` is shared with every session
    (``Session.info``): it carries the deployment's secret key (:meth:`attach_secret`).
    """

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, max_overflow=JOB_CONNECTIONS)
        self.info: dict[str, Any] = {}
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=self.info)
        self.read_sessions = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False,
                                          info=self.info)
        self._probe_engine = make_engine(url, poolclass=NullPool)
        self._probe = self._probe_engine.execution_options(**{READ_ONLY: True})

    def attach_secret(self, secret_key: Callable[[], str]) -> None:
        """Give sessions of this database the deployment's secret key (read when first needed) for the keys
        derived from it: see :func:`noc.core.crypto.session_key`."""
        self.info[SECRET_KEY_INFO] = secret_key
        self.info[DERIVED_KEYS_INFO] = {}

    def probe(self) -> None:
        """Check the database answers, on a connection of its own (a full pool or a writer never delays it)."""
        with self._probe.connect() as conn:
            conn.execute(text("SELECT 1"))

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading only: on SQLite it takes no write lock (its transaction is rolled back)."""
        with self.read_sessions() as session:
            yield session

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self._probe_engine.dispose()
