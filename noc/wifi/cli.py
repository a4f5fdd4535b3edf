"""``noc wifi``: run a campaign in the foreground with a progress bar, check drift."""

from __future__ import annotations

from typing import Annotated

import typer

from noc.core.cli import cli_runtime, fail, out, reported_errors, settings_from


def run(ctx: typer.Context,
        campaign: Annotated[int, typer.Argument(help="The campaign's id (from POST /api/v1/wifi/campaigns).")]) -> None:
    """Run a campaign here until every CPE has a final state (or it pauses); a killed run resumes where it
    stopped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from noc.inventory.service import CREDENTIALS_PURPOSE
    from noc.wifi.runner import run_campaign
    from noc.wifi.service import SECRETS_PURPOSE, campaign_by_id, state_counts

    settings = settings_from(ctx)
    with reported_errors(settings), cli_runtime(ctx) as rt:
        with rt.db.read_session() as s:
            campaign_by_id(s, campaign)
            total = sum(state_counts(s, campaign).values())
        columns = (TextColumn("campaign {task.fields[id]}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
        with Progress(*columns, console=out, transient=False) as progress:
            task = progress.add_task("run", total=total, id=campaign, detail="")

            def show(counts: dict[str, int]) -> None:
                final = total - counts["pending"] - counts["in_progress"]
                detail = " ".join(f"{k} {v}" for k, v in counts.items() if v and k != "pending")
                progress.update(task, completed=final, detail=detail)

            counts = run_campaign(rt.db, settings, campaign, credentials=rt.secret_box(CREDENTIALS_PURPOSE),
                                  secrets=rt.secret_box(SECRETS_PURPOSE), progress=show)
        if counts is None:
            fail(f"campaign {campaign} is not running or another runner holds it (its lease ends within "
                 f"{settings.wifi_lease_s:g} s of that runner's last news)")
        with rt.db.read_session() as s:
            state = campaign_by_id(s, campaign)
            summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
            out.print(f"campaign {campaign} {state.state}: {summary}"
                      + (f" ({state.reason})" if state.reason else ""), highlight=False)


def drift(ctx: typer.Context) -> None:
    """Read every provisioned CPE again and list those whose secondary SSID drifted."""
    from noc.inventory.service import CREDENTIALS_PURPOSE
    from noc.wifi.drift import check_drift, drifted
    from noc.wifi.service import SECRETS_PURPOSE

    settings = settings_from(ctx)
    with reported_errors(settings), cli_runtime(ctx) as rt:
        report = check_drift(rt.db, settings, rt.secret_box(CREDENTIALS_PURPOSE), rt.secret_box(SECRETS_PURPOSE))
        with rt.db.read_session() as s:
            for row in drifted(s):
                out.print(f"{row['serial']}  {row['profile']}  {', '.join(row['differences'])}", highlight=False)
    out.print(f"{report['checked']} checked, {report['drifted']} drifted, {report['unreachable']} unreachable",
              highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``noc wifi`` to the command."""
    wifi = typer.Typer(help="Secondary SSID campaigns.", no_args_is_help=True)
    wifi.command("run")(run)
    wifi.command("drift")(drift)
    app.add_typer(wifi, name="wifi")
