"""``noc user``: users, roles and API tokens at a shell."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from noc.core.cli import CliError, fail, open_database, out, reported_errors, settings_from
from noc.core.security import Role, cli_actor


def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name (letters, digits, . _ -).")],
    role: Annotated[Role, typer.Option(help="What the user may do.", case_sensitive=False)],
) -> None:
    """Create a user and print their first API token (shown once, stored hashed)."""
    from noc.auth.service import add_user, issue_token

    settings = settings_from(ctx)
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        fail("user name: use 1-64 letters, digits, '.', '_' or '-'")
    with reported_errors(settings):
        db = open_database(ctx)
        with db.session() as s:
            user = add_user(s, name, role, cli_actor())
            token = issue_token(s, user, cli_actor(), label="initial")
        db.dispose()
    typer.echo(f"user {name} ({role.value}) created; its token, shown once:", err=True)
    print(token)


def token(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    revoke_others: Annotated[bool, typer.Option(help="Revoke the user's other tokens.")] = False,
) -> None:
    """Issue a new API token for a user (shown once)."""
    from noc.auth.service import issue_token, revoke_tokens, user_by_name

    settings = settings_from(ctx)
    with reported_errors(settings):
        db = open_database(ctx)
        with db.session() as s:
            user = user_by_name(s, name)
            if user is None:
                raise CliError(f"no user {name!r}")
            if revoke_others:
                revoke_tokens(s, user, cli_actor())
            issued = issue_token(s, user, cli_actor())
        db.dispose()
    print(issued)


def list_users(ctx: typer.Context) -> None:
    """List users with their roles and live token counts."""
    from noc.auth.models import User

    settings = settings_from(ctx)
    with reported_errors(settings):
        db = open_database(ctx)
        table = Table("name", "role", "disabled", "live tokens", "created")
        with db.read_session() as s:
            for user in s.query(User).order_by(User.name):
                live = sum(1 for t in user.tokens if t.revoked_at is None)
                table.add_row(user.name, user.role, "yes" if user.disabled else "", str(live),
                              user.created_at.strftime("%Y-%m-%d %H:%M"))
        db.dispose()
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add ``noc user`` to the command."""
    users = typer.Typer(help="Users, roles and API tokens.", no_args_is_help=True)
    users.command("add")(add)
    users.command("token")(token)
    users.command("list")(list_users)
    app.add_typer(users, name="user")
