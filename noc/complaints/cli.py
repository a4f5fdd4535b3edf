"""``noc measurements``: import the regulator tool's measurements at a shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from noc.core.cli import cli_runtime, err, fail, out, reported_errors, settings_from


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .csv or .json file of RMBT open-data records with a subscriber "
                                              "column.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Import measurements: every row is checked first; one bad row and nothing is written."""
    from noc.complaints.measurements import MeasurementsRejected, MeasurementWriter, read_records
    from noc.core.security import cli_actor

    settings = settings_from(ctx)
    rejected: MeasurementsRejected | None = None
    with reported_errors(settings):
        try:
            content = file.read_bytes()
        except OSError as exc:
            fail(f"cannot read {file}: {exc.strerror}")
        with cli_runtime(ctx) as rt:
            try:
                with rt.db.session() as s:
                    result = MeasurementWriter(s, cli_actor(), reason=reason, via="cli").store(
                        content, read_records(file.name, content))
            except MeasurementsRejected as exc:
                rejected = exc
    if rejected is not None:
        for error in rejected.errors:
            err.print(str(error), highlight=False, soft_wrap=True, markup=False)
        more = rejected.bad - len(rejected.errors)
        fail((f"{more} more bad row(s) not listed; " if more else "") +
             f"{rejected.bad} bad row(s) in {file.name}; nothing was written")
    out.print(f"imported {result.stored} measurements from {file.name} (SHA-256 {result.sha256})", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``noc measurements`` to the command."""
    measurements = typer.Typer(help="Speed measurements from the regulator's tool.", no_args_is_help=True)
    measurements.command("import")(import_file)
    app.add_typer(measurements, name="measurements")
