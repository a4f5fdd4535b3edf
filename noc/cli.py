"""The ``noc`` command: demo, serve, worker, db, inventory, user, audit."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from noc.audit.service import cli_actor, record, verify_chain
from noc.auth.models import User
from noc.auth.roles import Role
from noc.auth.service import AuthError, add_user, issue_token, revoke_tokens, user_by_name
from noc.crypto import SecretBox, SecretBoxError
from noc.db import Database, alembic_config
from noc.inventory.importer import ImportFormatError, ImportRejected, import_rows, read_rows
from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter
from noc.settings import Settings

app = typer.Typer(help="noc: network operations for a cable/fibre operator.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
inventory_app = typer.Typer(help="Subscribers, packages, devices, CPEs, segments, credentials.", no_args_is_help=True)
user_app = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(inventory_app, name="inventory")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")

DEMO_DIR = Path(".noc-demo")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class CliError(Exception):
    """A failure reported as one line on stderr with exit code 1."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one readable error line and exit non-zero."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings_from(ctx: typer.Context) -> Settings:
    """The settings the top-level options and environment give."""
    settings: Settings = ctx.obj
    return settings


@contextmanager
def reported_errors(settings: Settings) -> Iterator[None]:
    """Turn the failures a user can cause or fix into one line each (never a stack trace)."""
    try:
        yield
    except CliError as exc:
        fail(str(exc))
    except (AuthError, ImportFormatError, SecretBoxError) as exc:
        fail(str(exc))
    except (OperationalError, ProgrammingError) as exc:
        url = make_url(settings.resolved_database_url()).render_as_string(hide_password=True)
        fail(f"database {url}: {str(exc.orig).splitlines()[0] if exc.orig else exc.__class__.__name__}")


def open_database(settings: Settings) -> Database:
    """The configured database, refusing one whose schema is not at the newest migration."""
    db = Database(settings.resolved_database_url())
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
    if current != head:
        db.dispose()
        raise CliError(f"database schema is at {current or 'nothing'}, not {head}: run `noc db upgrade` first")
    return db


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (env NOC_DATA_DIR).")] = None,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL (env NOC_DATABASE_URL).")] = None,
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = None,
) -> None:
    """Settings come from NOC_* environment variables and .env; these options override them."""
    overrides = {k: v for k, v in {"data_dir": data_dir, "database_url": database_url,
                                   "log_level": log_level}.items() if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.log_level.upper() != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs full URLs, which may carry tokens
    ctx.obj = settings


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its SQLite file and tokens.")] = DEMO_DIR,
    reset: Annotated[bool, typer.Option("--reset", help="Delete the demo's data and start over.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    sim_port_base: Annotated[int, typer.Option(
        help="First UDP port of the simulated devices (CPEs from +10000); fixed when the demo data is created.")
    ] = 20161,
) -> None:
    """Run the embedded default: SQLite, a demo inventory, a simulated network polled live, one token per role,
    the API and scheduler."""
    from noc import demo as demo_mod

    settings = Settings(data_dir=data_dir)
    with reported_errors(settings):
        context, tokens, report = demo_mod.prepare(data_dir, reset=reset, host=host, port=port,
                                                   device_port_base=sim_port_base)
    if report is not None:
        created = ", ".join(f"{c['created']} {kind}" for kind, c in report.counts.items())
        out.print(f"demo inventory created: {created}")
    table = Table(title="demo API tokens (also in " + str(data_dir / demo_mod.TOKENS_FILE) + ")")
    table.add_column("role")
    table.add_column("token")
    for role, token in tokens.items():
        table.add_row(role, token)
    out.print(table)
    base = f"http://{host}:{port}"
    out.print(f"noc demo on [bold]{base}[/bold]  health {base}/api/v1/health  docs {base}/api/docs  (Ctrl-C stops)")
    out.print(f"simulated network on 127.0.0.1 UDP {context.device_port_base}+ (devices) and "
              f"{context.cpe_port_base}+ (CPEs); watch {base}/api/v1/capacity/now and {base}/api/v1/health/cpes")
    demo_mod.run(context)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address (env NOC_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (env NOC_API_PORT).")] = None,
    scheduler: Annotated[bool, typer.Option(help="Also run the background jobs (off when a worker runs).")] = True,
) -> None:
    """Serve the HTTP API (and, unless --no-scheduler, the background jobs)."""
    import uvicorn

    from noc.api import create_app

    settings = settings_from(ctx)
    with reported_errors(settings):
        db = open_database(settings)
    uvicorn.run(create_app(settings, db, scheduler=scheduler), host=host or settings.api_host,
                port=port or settings.api_port, log_level=settings.log_level.lower())


@app.command()
def worker(
    ctx: typer.Context,
    metrics_port: Annotated[int | None, typer.Option(help="Serve this worker's /metrics on this port.")] = None,
    metrics_host: Annotated[str, typer.Option(help="Address for --metrics-port.")] = "127.0.0.1",
) -> None:
    """Run the background jobs without the API, until SIGINT or SIGTERM."""
    from prometheus_client import start_http_server

    from noc.jobs import JobContext, build_scheduler
    from noc.metrics import REGISTRY

    settings = settings_from(ctx)
    with reported_errors(settings):
        db = open_database(settings)
    jobs = JobContext(db, settings)
    scheduler = build_scheduler(jobs)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    scheduler.start()
    if metrics_port is not None:
        start_http_server(metrics_port, addr=metrics_host, registry=REGISTRY)
    out.print(f"noc worker running {len(scheduler.get_jobs())} jobs (Ctrl-C stops)")
    stop.wait()
    scheduler.shutdown(wait=True)
    jobs.close()
    db.dispose()


@app.command("sim", context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                                       "help_option_names": []})
def sim(ctx: typer.Context) -> None:
    """Run the simulated network (SNMP agents on loopback); `noc sim --help` lists its options."""
    from collectors.sim import main as sim_main

    raise typer.Exit(sim_main(list(ctx.args)))


@app.command("poll")
def poll_device(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Inventory device name, CPE serial or MAC, or host[:port].")],
    community: Annotated[str | None, typer.Option(envvar="NOC_POLL_COMMUNITY", help="v2c community.")] = None,
    v3_user: Annotated[str | None, typer.Option(help="SNMPv3 user (authPriv with the keys below).")] = None,
    auth_proto: Annotated[str, typer.Option(help="MD5, SHA, SHA224, SHA256, SHA384, SHA512.")] = "SHA",
    auth_key: Annotated[str | None, typer.Option(envvar="NOC_POLL_AUTH_KEY", help="v3 authentication key.")] = None,
    priv_proto: Annotated[str, typer.Option(help="DES, AES, AES192, AES256.")] = "AES",
    priv_key: Annotated[str | None, typer.Option(envvar="NOC_POLL_PRIV_KEY", help="v3 privacy key.")] = None,
    profile: Annotated[str | None, typer.Option(help="Device profile (default: the inventory's, or if-mib).")] = None,
    rate_interval: Annotated[float, typer.Option(help="Poll twice this many seconds apart to show rates.")] = 0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 2.0,
    retries: Annotated[int, typer.Option(help="Retransmissions after a timeout.")] = 1,
) -> None:
    """Poll one device now and print what its profile reads, as tables (keys may come from NOC_POLL_*)."""
    import asyncio
    import dataclasses

    from collectors.snmp.auth import V3, V2c
    from noc.polling.oneshot import TargetError, adhoc_target, inventory_target, poll_with_rates, render

    settings = settings_from(ctx)
    with reported_errors(settings):
        try:
            if community or v3_user:
                if v3_user and not auth_key:
                    raise CliError("--auth-key is needed with --v3-user")
                creds = V2c(community) if community else V3(v3_user or "", auth_proto, auth_key or "",  # type: ignore[arg-type]
                                                            priv_proto if priv_key else None, priv_key)  # type: ignore[arg-type]
                target = adhoc_target(device, creds, profile or "if-mib", timeout, retries)
            else:
                db = open_database(settings)
                box = SecretBox(settings.resolved_secret_key(), CREDENTIALS_PURPOSE)
                with db.session() as s:
                    found = inventory_target(s, box, device, timeout, retries)
                db.dispose()
                if found is None:
                    raise CliError(f"{device}: not in the inventory; give --community or --v3-user to poll it")
                target = found if profile is None else dataclasses.replace(found, profile=profile)
        except TargetError as exc:
            raise CliError(str(exc)) from None
        outcome = asyncio.run(poll_with_rates(target, rate_interval))
    if not outcome.ok:
        fail(f"{outcome.target.target.address}: {outcome.error_kind}: {outcome.error}")
    render(out, outcome)
    out.print(f"polled {outcome.target.target.address} in {outcome.duration_s * 1000:.0f} ms")


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database schema to the newest version."""
    settings = settings_from(ctx)
    with reported_errors(settings):
        db = Database(settings.resolved_database_url())
        db.upgrade()
        db.dispose()
    out.print("database schema is current")


@inventory_app.command("import")
def inventory_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .yaml/.yml file with sections, or a .csv file of one kind.")],
    kind: Annotated[str | None, typer.Option(help="Kind of a CSV file's rows, when its name does not say.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count, write nothing.")] = False,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Create or update inventory objects by natural key; any bad row and nothing is written."""
    settings = settings_from(ctx)
    with reported_errors(settings):
        rows = read_rows(file, kind)
        db = open_database(settings)
        box = SecretBox(settings.resolved_secret_key(), CREDENTIALS_PURPOSE)
        try:
            with db.session() as s:
                writer = InventoryWriter(s, cli_actor(), box, reason=reason, via="import")
                report = import_rows(rows, writer, dry_run=dry_run)
                record(s, cli_actor(), "inventory.import", "file", file.name, reason=reason,
                       details={k: dict(v) for k, v in report.counts.items()})
        except ImportRejected as rejected:
            report = rejected.report
        finally:
            db.dispose()
    for error in report.errors:
        err.print(str(error), highlight=False, soft_wrap=True, markup=False)
    summary = "; ".join(f"{kind}: " + ", ".join(f"{n} {status}" for status, n in sorted(c.items()))
                        for kind, c in report.counts.items()) or "no rows"
    if report.errors:
        fail(f"{len(report.errors)} bad row(s) in {file.name}; nothing was written")
    out.print(("dry run, nothing written: " if dry_run else "imported: ") + summary)


def _find_user(s: Session, name: str) -> User:
    user = user_by_name(s, name)
    if user is None:
        raise CliError(f"no user {name!r}")
    return user


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ -).")],
    role: Annotated[Role, typer.Option(help="What the user may do.", case_sensitive=False)],
) -> None:
    """Create a user and print their first API token (shown once, stored hashed)."""
    settings = settings_from(ctx)
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        fail("user name: use 1-64 letters, digits, '.', '_' or '-'")
    with reported_errors(settings):
        db = open_database(settings)
        with db.session() as s:
            user = add_user(s, name, role, cli_actor())
            token = issue_token(s, user, cli_actor(), label="initial")
        db.dispose()
    err.print(f"user {name} ({role.value}) created; its token, shown once:")
    print(token)


@user_app.command("token")
def user_token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    revoke_others: Annotated[bool, typer.Option(help="Revoke the user's other tokens.")] = False,
) -> None:
    """Issue a new API token for a user (shown once)."""
    settings = settings_from(ctx)
    with reported_errors(settings):
        db = open_database(settings)
        with db.session() as s:
            user = _find_user(s, name)
            if revoke_others:
                revoke_tokens(s, user, cli_actor())
            token = issue_token(s, user, cli_actor())
        db.dispose()
    print(token)


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """List users with their roles and live token counts."""
    settings = settings_from(ctx)
    with reported_errors(settings):
        db = open_database(settings)
        table = Table("name", "role", "disabled", "live tokens", "created")
        with db.session() as s:
            for user in s.query(User).order_by(User.name):
                live = sum(1 for t in user.tokens if t.revoked_at is None)
                table.add_row(user.name, user.role, "yes" if user.disabled else "", str(live),
                              user.created_at.strftime("%Y-%m-%d %H:%M"))
        db.dispose()
    out.print(table)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the audit log's hash chain; exit 1 naming the first broken link."""
    settings = settings_from(ctx)
    with reported_errors(settings):
        db = open_database(settings)
        with db.session() as s:
            result = verify_chain(s)
        db.dispose()
    if not result.ok:
        fail(f"audit chain broken at entry {result.broken_seq}: {result.problem} "
             f"({result.checked} entries before it intact)")
    out.print(f"audit chain intact: {result.checked} entries")

