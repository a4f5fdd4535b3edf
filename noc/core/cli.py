"""Shared pieces of the ``noc`` command: consoles, one-line errors, settings, opening the database.

Imported by every capability's CLI module at ``noc`` start-up, so it stays light: SQLAlchemy, pydantic models
and the migration machinery are imported inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from noc.core.capability import Capability, Runtime
    from noc.core.db import Database
    from noc.core.settings import Settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class CliError(Exception):
    """A failure reported as one line on stderr with exit code 1."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one readable error line and exit non-zero."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@dataclass(frozen=True)
class CliContext:
    """What the root command hands its subcommands: the settings, and how to wire a runtime."""

    settings: Settings
    wire: Callable[[Runtime], None]
    """Wires every enabled capability into a runtime (given by the composition root)."""
    schema_head: Callable[[], str]
    """The newest schema revision (the composition root knows the migrations)."""
    parts: Callable[[str], Iterable[tuple[Capability, Any]]]
    """(capability, part) of every enabled capability that has part ``name`` (for commands that need no database)."""


def settings_from(ctx: typer.Context) -> Settings:
    """The settings the top-level options and environment give."""
    state: CliContext = ctx.find_root().obj
    return state.settings


@contextmanager
def reported_errors(settings: Settings) -> Iterator[None]:
    """Turn the failures a user can cause or fix into one line each (never a stack trace)."""
    from collectors.strict_yaml import ConfigError
    from noc.core.crypto import SecretBoxError
    from noc.core.errors import NocError

    try:
        yield
    except (CliError, NocError, ConfigError, SecretBoxError) as exc:
        fail(str(exc))
    except Exception as exc:
        from sqlalchemy.engine import make_url  # imported only when something failed: start-up stays light
        from sqlalchemy.exc import OperationalError, ProgrammingError

        if not isinstance(exc, OperationalError | ProgrammingError):
            raise
        url = make_url(settings.resolved_database_url()).render_as_string(hide_password=True)
        fail(f"database {url}: {str(exc.orig).splitlines()[0] if exc.orig else exc.__class__.__name__}")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        return Path(url.removeprefix("sqlite:///"))
    return None


def open_database(ctx: typer.Context) -> Database:
    """The configured database, which must exist with its schema at the newest migration.

    Creates nothing: a missing SQLite file (a wrong ``--data-dir``) is an error, not a new empty database.
    """
    from sqlalchemy import inspect, text

    from noc.core.db import Database, server_pool_size

    state: CliContext = ctx.find_root().obj
    settings = state.settings
    url = settings.resolved_database_url()
    file = sqlite_file(url)
    if file is not None and not file.exists():
        raise CliError(f"no database at {file}: give --data-dir (or NOC_DATABASE_URL), or create one with "
                       "`noc db upgrade`")
    db = Database(url, pool_size=server_pool_size(settings))
    db.attach_secret(settings.resolved_secret_key)
    with db.engine.connect() as conn:
        versioned = inspect(conn).has_table("alembic_version")
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if versioned else None
    head = state.schema_head()
    if current != head:
        db.dispose()
        raise CliError(f"database schema is at {current or 'nothing'}, not {head}: run `noc db upgrade` first")
    return db


@contextmanager
def cli_runtime(ctx: typer.Context) -> Iterator[Runtime]:
    """A runtime on the existing database with every capability wired in (their checks apply to CLI writes)."""
    from noc.core.capability import Runtime

    state: CliContext = ctx.find_root().obj
    db = open_database(ctx)
    rt = Runtime(state.settings, db)
    state.wire(rt)
    try:
        yield rt
    finally:
        rt.close()
        db.dispose()
