"""``noc inventory``: import inventory files at a shell."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from noc.core.cli import cli_runtime, err, fail, out, reported_errors, settings_from


def import_file(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A .yaml/.yml file with sections, or a .csv file of one kind.")],
    kind: Annotated[str | None, typer.Option(help="Kind of a CSV file's rows, when its name does not say.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and count, write nothing.")] = False,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log).")] = "",
) -> None:
    """Create or update inventory objects by natural key; any bad row and nothing is written."""
    from noc.audit.service import record
    from noc.core.security import cli_actor
    from noc.inventory.importer import ImportRejected, import_rows, read_rows
    from noc.inventory.service import CREDENTIALS_PURPOSE, InventoryWriter

    settings = settings_from(ctx)
    with reported_errors(settings):
        rows = read_rows(file, kind)
        with cli_runtime(ctx) as rt:
            try:
                with rt.db.session() as s:
                    writer = InventoryWriter(s, cli_actor(), rt.secret_box(CREDENTIALS_PURPOSE), rt.events,
                                             reason=reason, via="import")
                    report = import_rows(rows, writer, dry_run=dry_run)
                    record(s, cli_actor(), "inventory.import", "file", file.name, reason=reason,
                           details={k: dict(v) for k, v in report.counts.items()})
            except ImportRejected as rejected:
                report = rejected.report
    for error in report.errors:
        err.print(str(error), highlight=False, soft_wrap=True, markup=False)
    for warning in report.warnings:
        err.print(f"warning: {warning}", highlight=False, soft_wrap=True, markup=False)
    summary = "; ".join(f"{kind}: " + ", ".join(f"{n} {status}" for status, n in sorted(c.items()))
                        for kind, c in report.counts.items()) or "no rows"
    if report.errors:
        fail(f"{len(report.errors)} bad row(s) in {file.name}; nothing was written")
    out.print(("dry run, nothing written: " if dry_run else "imported: ") + summary)


def register(app: typer.Typer) -> None:
    """Add ``noc inventory`` to the command."""
    inventory = typer.Typer(help="Subscribers, packages, devices, CPEs, segments, credentials.", no_args_is_help=True)
    inventory.command("import")(import_file)
    app.add_typer(inventory, name="inventory")
