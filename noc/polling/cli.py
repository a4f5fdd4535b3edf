"""``noc poll``: poll one device now, from the inventory or by address."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from noc.core.cli import CliError, fail, open_database, out, reported_errors, settings_from, sqlite_file


def poll_device(
    ctx: typer.Context,
    device: Annotated[str, typer.Argument(help="Inventory device name, CPE serial or MAC, or host[:port].")],
    community: Annotated[str | None, typer.Option(envvar="NOC_POLL_COMMUNITY", help="v2c community.")] = None,
    v3_user: Annotated[str | None, typer.Option(
        help="SNMPv3 user: authPriv with both keys below, authNoPriv with the auth key, noAuthNoPriv with none.")
    ] = None,
    auth_proto: Annotated[str, typer.Option(
        help="MD5, SHA, SHA224, SHA256, SHA384, SHA512 (also written sha-256, SHA1, ...).")] = "SHA",
    auth_key: Annotated[str | None, typer.Option(envvar="NOC_POLL_AUTH_KEY", help="v3 authentication key.")] = None,
    priv_proto: Annotated[str, typer.Option(
        help="DES, AES, AES192, AES256 (net-snmp's key extension), AES192C, AES256C (Cisco's); also AES-128...")
    ] = "AES",
    priv_key: Annotated[str | None, typer.Option(envvar="NOC_POLL_PRIV_KEY", help="v3 privacy key.")] = None,
    profile: Annotated[str | None, typer.Option(help="Device profile (default: the inventory's, or if-mib).")] = None,
    rate_interval: Annotated[float, typer.Option(help="Poll twice this many seconds apart to show rates.")] = 0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each answer.")] = 2.0,
    retries: Annotated[int, typer.Option(help="Retransmissions after a timeout.")] = 1,
    output: Annotated[str, typer.Option("--format", help="table (fitted to the terminal), json or csv.")] = "table",
) -> None:
    """Poll one device now and print what its profile reads (keys may come from NOC_POLL_*).

    A name found in the inventory is polled at its inventory address, with its inventory credentials unless
    --community or --v3-user are given; anything else is a host[:port] and needs them.
    """
    import asyncio
    import dataclasses

    from collectors.snmp.auth import V3, Credentials, V2c, normalise_auth_protocol, normalise_priv_protocol
    from noc.polling.oneshot import FORMATS, adhoc_target, poll_with_rates, render

    if output not in FORMATS:
        fail(f"--format: choose one of {', '.join(FORMATS)}")
    settings = settings_from(ctx)
    if settings.log_level.upper() != "DEBUG":  # the one-line error below names what the poller would log
        logging.getLogger("collectors").setLevel(logging.ERROR)
    with reported_errors(settings):
        creds: Credentials | None = None
        if community:
            creds = V2c(community)
        elif v3_user:
            try:
                auth, priv = normalise_auth_protocol(auth_proto), normalise_priv_protocol(priv_proto)
            except ValueError as exc:
                raise CliError(f"--auth-proto / --priv-proto: {exc}") from None
            if priv_key and not auth_key:
                raise CliError("--priv-key needs --auth-key (privacy needs authentication)")
            creds = V3(v3_user, auth if auth_key else None, auth_key, priv if priv_key else None, priv_key)
            if creds.level == "noAuthNoPriv":
                typer.echo("warning: SNMPv3 noAuthNoPriv: nothing is protected (no authentication, no privacy)",
                           err=True)
        file = sqlite_file(settings.resolved_database_url())
        found = None
        if file is None or file.exists():  # never create a database just to look a name up
            from noc.polling.targets import inventory_target

            db = open_database(ctx)
            try:
                with db.read_session() as s:
                    box = None
                    if creds is None:
                        from noc.core.crypto import SecretBox
                        from noc.inventory.service import CREDENTIALS_PURPOSE

                        box = SecretBox(settings.resolved_secret_key(create=False), CREDENTIALS_PURPOSE)
                    found = inventory_target(s, box, device, timeout, retries, creds)
            finally:
                db.dispose()
        if found is not None:
            target = found if profile is None else dataclasses.replace(found, profile=profile)
        elif creds is not None:
            target = adhoc_target(device, creds, profile or "if-mib", timeout, retries)
        elif file is not None and not file.exists():
            raise CliError(f"{device}: no inventory at {file}; give --data-dir, or --community / --v3-user to "
                           "poll it as a host")
        else:
            raise CliError(f"{device}: not in the inventory; give --community or --v3-user to poll it as a host")
        outcome = asyncio.run(poll_with_rates(target, rate_interval))
    if not outcome.ok:
        fail(f"{outcome.target.target.address}: {outcome.error_kind}: {outcome.error}")
    render(out, outcome, output)
    if output == "table":
        out.print(f"polled {outcome.target.target.address} in {outcome.duration_s * 1000:.0f} ms")
    if outcome.invalid:
        named = "; ".join(f"{r.object}{f' row {r.index}' if r.index else ''}: {r.reason}" for r in outcome.invalid[:5])
        more = f" (and {len(outcome.invalid) - 5} more)" if len(outcome.invalid) > 5 else ""
        fail(f"{outcome.target.target.address}: {len(outcome.invalid)} invalid reading(s), left out: {named}{more}")


def register(app: typer.Typer) -> None:
    """Add ``noc poll`` to the command."""
    app.command("poll")(poll_device)
