"""`deskpulse serve` (the web app), `deskpulse user add|passwd|remove|list` and `deskpulse token add`."""

from __future__ import annotations

import getpass
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

PASSWORD_ENV = "DESKPULSE_PASSWORD"  # read instead of asking, for scripts and tests


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        ctx: typer.Context,
        host: Annotated[str | None, typer.Option(help="Address to listen on (default: [web] host, 127.0.0.1).")] = None,
        port: Annotated[int | None, typer.Option(help="Port (default: [web] port, 8750).")] = None,
    ) -> None:
        """The web dashboard and the JSON API (docs/web.md). Sign in with an account from `deskpulse user add`."""
        import uvicorn

        from deskpulse.cli import console, settings_of
        from deskpulse.state import state_path
        from deskpulse.store import Store
        from deskpulse.web.app import create_app

        settings = settings_of(ctx)
        config = settings.config()
        Store.open(settings.db, read_only=True).close()  # a missing or foreign store fails here, with its reason
        state = state_path(settings.db)
        web = create_app(settings.db, config, state)
        host, port = host or config.web.host, port or config.web.port
        console.print(f"deskpulse serves {settings.db} on http://{host}:{port}/ (accounts in {state}); Ctrl-C stops.")
        uvicorn.run(web, host=host, port=port, log_level="warning", proxy_headers=True)

    user_app = typer.Typer(help="Accounts of the web app: admin, manager or agent.", no_args_is_help=True)
    app.add_typer(user_app, name="user")

    @user_app.command("add")
    def user_add(
        ctx: typer.Context,
        username: Annotated[str, typer.Argument(help="The name to sign in with.")],
        role: Annotated[str, typer.Option(help="admin, manager or agent.")] = "agent",
        agent: Annotated[
            str | None, typer.Option(help="For role agent: the address the agent replies from (their own figures).")
        ] = None,
    ) -> None:
        """Add an account; asks for the password (or reads $DESKPULSE_PASSWORD)."""
        from deskpulse.cli import console
        from deskpulse.web import accounts

        with _accounts(ctx) as connection:
            accounts.add_user(connection, username, _password(), role, agent)
        console.print(f"Added {role} {username}.")

    @user_app.command("passwd")
    def user_passwd(ctx: typer.Context, username: Annotated[str, typer.Argument()]) -> None:
        """Set a new password; the user's sessions end."""
        from deskpulse.cli import console
        from deskpulse.web import accounts

        with _accounts(ctx) as connection:
            accounts.set_password(connection, username, _password())
        console.print(f"New password set for {username}; their sessions have ended.")

    @user_app.command("remove")
    def user_remove(ctx: typer.Context, username: Annotated[str, typer.Argument()]) -> None:
        """Remove an account, its sessions and its API tokens."""
        from deskpulse.cli import console
        from deskpulse.web import accounts

        with _accounts(ctx) as connection:
            accounts.remove_user(connection, username)
        console.print(f"Removed {username}.")

    @user_app.command("list")
    def user_list(ctx: typer.Context) -> None:
        """The accounts with their roles."""
        from deskpulse.cli import console
        from deskpulse.web import accounts

        with _accounts(ctx) as connection:
            for viewer in accounts.list_users(connection):
                console.print(f"{viewer.username}\t{viewer.role}\t{viewer.agent or ''}")

    token_app = typer.Typer(help="API tokens for the JSON API.", no_args_is_help=True)
    app.add_typer(token_app, name="token")

    @token_app.command("add")
    def token_add(
        ctx: typer.Context,
        username: Annotated[str, typer.Argument(help="The account the token acts as (its role applies).")],
        label: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    ) -> None:
        """Print a new API token (shown once; send it as `Authorization: Bearer <token>`)."""
        from deskpulse.web import accounts

        with _accounts(ctx) as connection:
            print(accounts.add_token(connection, username, label))


def _password() -> str:
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise typer.BadParameter("the two passwords differ")
    return first


@contextmanager
def _accounts(ctx: typer.Context) -> Iterator[sqlite3.Connection]:
    """The state file of the store named by --db, with the account tables."""
    from deskpulse.cli import settings_of
    from deskpulse.state import connect_state, state_path
    from deskpulse.web import accounts

    connection = accounts.prepare(connect_state(state_path(settings_of(ctx).db)))
    try:
        yield connection
    finally:
        connection.close()
