"""`deskpulse import helpscout PATH…`: Help Scout Mailbox API v1 JSON into the store (docs/connectors.md,
"Help Scout")."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Output(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    from deskpulse.commands.imports import import_app

    import_app.command("helpscout")(import_helpscout)


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
