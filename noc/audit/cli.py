"""``noc audit``: check the append-only audit log."""

from __future__ import annotations

import typer

from noc.core.cli import fail, open_database, out, reported_errors, settings_from


def verify(ctx: typer.Context) -> None:
    """Check the audit log's hash chain; exit 1 naming the first broken link."""
    from noc.audit.service import verify_chain

    settings = settings_from(ctx)
    with reported_errors(settings):
        db = open_database(ctx)
        with db.session() as s:
            result = verify_chain(s)
        db.dispose()
    if not result.ok:
        fail(f"audit chain broken at entry {result.broken_seq}: {result.problem} "
             f"({result.checked} entries before it intact)")
    out.print(f"audit chain intact: {result.checked} entries")


def register(app: typer.Typer) -> None:
    """Add ``noc audit`` to the command."""
    audit = typer.Typer(help="The append-only audit log.", no_args_is_help=True)
    audit.command("verify")(verify)
    app.add_typer(audit, name="audit")
