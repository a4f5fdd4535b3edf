"""The ``noc`` command: demo, serve, worker, sim and db here; each capability adds its own commands.

Start-up stays light (``noc --help`` well under a second): this module and the capabilities' CLI modules
import only typer and rich at the top; everything else is imported by the command that runs.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from noc.capabilities import parts, wire
from noc.core.cli import CliContext, CliError, fail, open_database, out, reported_errors, settings_from

app = typer.Typer(help="noc: network operations for a cable/fibre operator.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

DEMO_DIR = Path(".noc-demo")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET_LOGGERS = ("apscheduler", "alembic", "httpx")
"""Routine chatter (job runs, migrations, URLs that may carry tokens) is kept for DEBUG."""


def schema_head() -> str:
    """The newest migration's revision."""
    from noc.migrations import head_revision

    return head_revision()


def configure_logging(level: str) -> None:
    """One format, times in UTC with their zone, routine job and request lines only at DEBUG."""
    import time

    logging.basicConfig(level=level.upper(), format=LOG_FORMAT.replace("%(asctime)s", "%(asctime)sZ"), force=True)
    logging.Formatter.converter = time.gmtime
    if level.upper() != "DEBUG":
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


@app.callback()
def main(
    ctx: typer.Context,
    data_dir: Annotated[Path | None, typer.Option(help="Data directory (env NOC_DATA_DIR).")] = None,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL (env NOC_DATABASE_URL).")] = None,
    log_level: Annotated[str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = None,
) -> None:
    """Settings come from NOC_* environment variables and .env; these options override them."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from noc.core.settings import Settings

    overrides = {k: v for k, v in {"data_dir": data_dir, "database_url": database_url,
                                   "log_level": log_level}.items() if v is not None}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"NOC_{str(first['loc'][0]).upper()}: {first['msg']}")
    except SettingsError as exc:  # a value that is not JSON where JSON is expected
        field = str(exc).split('"')[1] if '"' in str(exc) else "a setting"
        fail(f"NOC_{field.upper()}: not valid JSON")
    configure_logging(settings.log_level)
    ctx.obj = CliContext(settings, wire, schema_head, parts)


@app.command()
def demo(
    ctx: typer.Context,
    data_dir: Annotated[Path | None, typer.Option(
        help="Where the demo keeps its data (as the global --data-dir); default .noc-demo.")] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Delete the demo's data and start over.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; taken or 0: a free one is picked.")] = 8000,
    sim_port_base: Annotated[int | None, typer.Option(
        min=1024, max=55000, help="First UDP port of the simulated devices (CPEs from +10000); default: a free range.")
    ] = None,
) -> None:
    """Run the embedded default: SQLite, a demo inventory, a simulated network polled live, one token per role,
    the API and scheduler (data in --data-dir, default .noc-demo)."""
    from noc import demo as demo_mod

    directory = data_dir or ctx.find_root().params.get("data_dir") or DEMO_DIR
    settings = settings_from(ctx)
    with reported_errors(settings):
        demo_mod.run(directory, reset=reset, host=host, port=port, sim_port_base=sim_port_base)


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
        db = open_database(ctx)
    uvicorn.run(create_app(settings, db, scheduler=scheduler), host=host or settings.api_host,
                port=port or settings.api_port, log_level=settings.log_level.lower(), log_config=None)


@app.command()
def worker(
    ctx: typer.Context,
    metrics_port: Annotated[int | None, typer.Option(help="Serve this worker's /metrics on this port.")] = None,
    metrics_host: Annotated[str, typer.Option(help="Address for --metrics-port.")] = "127.0.0.1",
    job: Annotated[list[str] | None, typer.Option(
        help="Run only this job (repeatable; ids as /api/v1/health lists them, e.g. maintenance.mail).")] = None,
    poller_group: Annotated[list[str] | None, typer.Option(
        help="Instead of the jobs, poll the batches of this poller group (repeatable; needs NOC_BROKER_URL).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Batches a poller-group worker polls at once.")] = 1,
) -> None:
    """Run the background jobs without the API, until SIGINT or SIGTERM (or, with --poller-group, a Celery
    worker polling that group's batches)."""
    from prometheus_client import start_http_server

    settings = settings_from(ctx)
    if poller_group:
        with reported_errors(settings):
            if settings.broker_url is None:
                raise CliError("--poller-group: set NOC_BROKER_URL (the Redis broker the scheduler sends batches to)")
            bad = [g for g in poller_group if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", g)]
            if bad:
                raise CliError(f"--poller-group: {bad[0]!r} is not a group name (lower-case letters, digits, _, -)")
        from noc.scaleout.worker import run

        run(settings, poller_group, concurrency, settings.log_level)
        return

    from noc.capabilities import runtime
    from noc.core.metrics import REGISTRY
    from noc.core.scheduler import build_scheduler

    with reported_errors(settings):
        db = open_database(ctx)
        rt = runtime(settings, db)
        scheduler = build_scheduler(rt, (part for _, part in parts("jobs")))
        if job:
            known = {j.id for j in scheduler.get_jobs()}
            unknown = sorted(set(job) - known)
            if unknown:
                raise CliError(f"--job: no job {', '.join(unknown)} (jobs: {', '.join(sorted(known))})")
            for other in known - set(job):
                scheduler.remove_job(other)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    scheduler.start()
    if metrics_port is not None:
        start_http_server(metrics_port, addr=metrics_host, registry=REGISTRY)
    out.print(f"noc worker running {len(scheduler.get_jobs())} jobs (Ctrl-C stops)")
    stop.wait()
    scheduler.shutdown(wait=True)
    rt.close()
    db.dispose()


@app.command("sim", context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                                       "help_option_names": []})
def sim(ctx: typer.Context) -> None:
    """Run the simulated network (SNMP agents on loopback); `noc sim --help` lists its options."""
    from collectors.sim import main as sim_main

    raise typer.Exit(sim_main(list(ctx.args)))


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database schema to the newest version."""
    from noc.core.db import Database
    from noc.migrations import GRAFANA_READER, set_reader_password, upgrade

    settings = settings_from(ctx)
    with reported_errors(settings):
        db = Database(settings.resolved_database_url())
        upgrade(db)
        password = settings.grafana_db_password
        if password is not None and set_reader_password(db, password.get_secret_value()):
            out.print(f"role {GRAFANA_READER} may log in (NOC_GRAFANA_DB_PASSWORD)")
        db.dispose()
    out.print("database schema is current")


for _capability, _register in parts("cli"):
    _register(app)
