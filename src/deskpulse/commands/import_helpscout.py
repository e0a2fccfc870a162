"""`deskpulse import helpscout PATH…` (Help Scout Mailbox API v1 JSON) and `deskpulse fetch helpscout` (Mailbox
API 2.0, live) into the store (docs/connectors.md, "Help Scout")."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Output(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    from deskpulse.commands.imports import fetch_app, import_app

    import_app.command("helpscout")(import_helpscout)
    fetch_app.command("helpscout")(fetch_helpscout)


def import_helpscout(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of saved API responses (*.json, *.jsonl).")],
    output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
) -> None:
    """Import conversations with their threads (messages, notes, status and assignment changes), users,
    customers, mailboxes and ratings, whichever the files hold. A record that cannot be used is quarantined with
    its reason. Importing the same files again changes nothing; a conversation that changed replaces its row."""
    from deskpulse.cli import settings_of
    from deskpulse.commands.imports import print_source_summary
    from deskpulse.sources.helpscout import import_helpscout as run_import
    from deskpulse.store import Store

    settings = settings_of(ctx)
    config = settings.config()
    with Store.open(settings.db) as store:
        summary = run_import(store, config, paths)
    print_source_summary(summary, output is Output.json)


def fetch_helpscout(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Option(help="The API's URL (default https://api.helpscout.net; another one for tests).")
    ] = None,
    output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
) -> None:
    """Fetch the conversations (with their threads) changed in a Help Scout account since the last fetch, its users
    and inboxes, and the ratings of the happiness report (Plus and Pro plans); then rebuild the tickets.

    The app's credentials come from $HELPSCOUT_APP_ID and $HELPSCOUT_APP_SECRET only. The conversations resume from
    the modification time stored after their last stored page; a 429 is retried after the Retry-After it asks for."""
    from deskpulse.cli import settings_of
    from deskpulse.commands.imports import print_fetch_report
    from deskpulse.sources.helpscout_api import account_from_environment
    from deskpulse.sources.helpscout_api import fetch_helpscout as run_fetch
    from deskpulse.store import Store

    settings = settings_of(ctx)
    config = settings.config()
    account = account_from_environment(url)
    with Store.open(settings.db) as store:
        report = run_fetch(store, config, account)
    print_fetch_report(report, as_json=output is Output.json)
