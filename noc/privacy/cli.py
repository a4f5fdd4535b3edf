"""``noc privacy``: export, erase, retention and the records of processing at a shell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from noc.core.cli import CliContext, cli_runtime, fail, out, reported_errors, settings_from

Reason = Annotated[str, typer.Option(help="Why (kept in the audit log).")]


def export(ctx: typer.Context, subscriber: Annotated[int, typer.Argument(help="Subscriber id.")], reason: Reason = "",
           output: Annotated[Path | None, typer.Option("--out", help="Write a zip (with evidence files) here; "
                                                       "default: JSON on standard output.")] = None) -> None:
    """Everything noc holds about a subscriber (subject access, portability)."""
    from noc.core.security import cli_actor
    from noc.privacy.service import export as export_data
    from noc.privacy.service import export_zip

    with reported_errors(settings_from(ctx)), cli_runtime(ctx) as rt, rt.db.session() as s:
        document = export_data(s, rt.personal_data, cli_actor(), subscriber, reason)
        content = export_zip(s, rt.personal_data, document) if output else None
        if output is not None and content is not None:
            try:
                output.write_bytes(content)
            except OSError as exc:
                fail(f"cannot write {output}: {exc.strerror}")
        s.commit()
    if output is None:
        out.print_json(json.dumps(document, ensure_ascii=False, default=str))
    else:
        out.print(f"wrote the export of subscriber {subscriber} to {output}", highlight=False)


def erase(ctx: typer.Context, subscriber: Annotated[int, typer.Argument(help="Subscriber id.")],
          reason: Reason = "") -> None:
    """Anonymise a subscriber (refused, with the reasons, when a hold applies)."""
    from noc.core.security import cli_actor
    from noc.privacy.service import erase as erase_data

    with reported_errors(settings_from(ctx)), cli_runtime(ctx) as rt, rt.db.session() as s:
        counts = erase_data(s, rt.personal_data, cli_actor(), subscriber, reason)
        s.commit()
    out.print(f"erased subscriber {subscriber}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), highlight=False)


def retention(ctx: typer.Context) -> None:
    """Run the retention job now: remove or anonymise what has expired (held subscribers are spared)."""
    from noc.privacy.service import run_retention

    with reported_errors(settings_from(ctx)), cli_runtime(ctx) as rt:
        counts = run_retention(rt.db, rt.settings, rt.personal_data)
    out.print(", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing expired", highlight=False)


def records(ctx: typer.Context) -> None:
    """Print the records of processing (docs/privacy.md) as the code declares them."""
    from noc.privacy.service import records_of_processing

    state: CliContext = ctx.find_root().obj
    with reported_errors(state.settings):
        text = records_of_processing({c.name: p for c, p in state.parts("privacy")}, state.settings)
    out.print(text, highlight=False, markup=False, soft_wrap=True, end="")


def register(app: typer.Typer) -> None:
    """Add ``noc privacy`` to the command."""
    privacy = typer.Typer(help="Subject access, erasure, retention and the records of processing.",
                          no_args_is_help=True)
    for command in (export, erase, retention, records):
        privacy.command(command.__name__)(command)
    app.add_typer(privacy, name="privacy")
