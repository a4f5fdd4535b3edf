"""``noc audit``: check the append-only audit log, anchor its head, find searches for a value."""

from __future__ import annotations

from typing import Annotated

import typer

from noc.core.cli import fail, open_database, out, reported_errors, settings_from


def verify(ctx: typer.Context) -> None:
    """Check the audit log's keyed hash chain and its anchors; exit 1 naming what is wrong."""
    from noc.audit.service import verify_chain

    settings = settings_from(ctx)
    with reported_errors(settings):
        settings.resolved_secret_key(create=False)
        db = open_database(ctx)
        with db.read_session() as s:
            result = verify_chain(s, settings.resolved_anchor_file())
        db.dispose()
    if not result.ok:
        where = f"at entry {result.broken_seq}: " if result.broken_seq is not None else ": "
        fail(f"audit chain broken {where}{result.problem} ({result.checked} entries checked)")
    out.print(f"audit chain intact: {result.checked} entries, held against the anchors in "
              f"{settings.resolved_anchor_file()}")


def anchor(ctx: typer.Context) -> None:
    """Anchor the chain's head now (the scheduler does it every NOC_AUDIT_ANCHOR_INTERVAL_S)."""
    from noc.audit.jobs import offer
    from noc.audit.service import anchor as write_anchor

    settings = settings_from(ctx)
    with reported_errors(settings):
        settings.resolved_secret_key(create=False)
        db = open_database(ctx)
        with db.read_session() as s:
            written = write_anchor(s, settings.resolved_anchor_file())
        db.dispose()
    if written is None:
        out.print("audit chain head unchanged since the last anchor")
        return
    if settings.audit_anchor_url:
        offer(settings.audit_anchor_url, written)
    out.print(f"anchored: {written['seq']} entries, head {written['digest']}")


def term(ctx: typer.Context,
         value: Annotated[str, typer.Argument(help="The searched value (e-mail, name ...).")],
         changed: Annotated[bool, typer.Option("--changed", help="Print the hash a change of a personal field "
                                               "records for VALUE as its old or new value (exact, not folded).")]
         = False) -> None:
    """Print how the audit log keeps a search for VALUE (a keyed hash), to find who searched for it; with --changed,
    how it keeps VALUE as a changed field's old or new value."""
    from noc.audit.service import search_term, value_hash

    settings = settings_from(ctx)
    with reported_errors(settings):
        settings.resolved_secret_key(create=False)
        db = open_database(ctx)
        with db.read_session() as s:
            out.print(value_hash(s, value) if changed else search_term(s, value))
        db.dispose()


def register(app: typer.Typer) -> None:
    """Add ``noc audit`` to the command."""
    audit = typer.Typer(help="The append-only audit log.", no_args_is_help=True)
    audit.command("verify")(verify)
    audit.command("anchor")(anchor)
    audit.command("term")(term)
    app.add_typer(audit, name="audit")
