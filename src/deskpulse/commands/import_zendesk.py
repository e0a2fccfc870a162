"""`deskpulse import zendesk PATH…` and `deskpulse fetch zendesk`: Zendesk into the store (docs/connectors.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from deskpulse.sources.zendesk_agreement import Agreement


class Output(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    from deskpulse.commands.imports import fetch_app, import_app

    @import_app.command("zendesk")
    def import_zendesk_command(
        ctx: typer.Context,
        paths: Annotated[
            list[Path], typer.Argument(help="Files or folders of Zendesk JSON, JSONL or Fivetran CSV tables.")
        ],
        compare_metrics: Annotated[
            bool,
            typer.Option(
                "--compare-metrics",
                help="Then compare our first reply and full resolution times with the ticket_metrics read.",
            ),
        ] = False,
        output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    ) -> None:
        """Read Zendesk API pages, incremental exports, JSONL or Airbyte records, or Fivetran's tables, and store
        the tickets, comments, changes, users and satisfaction ratings. Reading them again changes nothing."""
        from deskpulse.cli import settings_of
        from deskpulse.commands.imports import print_source_summary
        from deskpulse.sources.zendesk import import_objects
        from deskpulse.sources.zendesk_agreement import compare_ticket_metrics
        from deskpulse.sources.zendesk_files import read_zendesk
        from deskpulse.store import Store

        settings = settings_of(ctx)
        config = settings.config()
        objects = read_zendesk(paths)
        with Store.open(settings.db) as store:
            summary = import_objects(store, config, objects)
            agreement = compare_ticket_metrics(store, config, objects) if compare_metrics else None
        if output is Output.json:
            result = summary.as_dict()
            if agreement is not None:
                result["ticket_metrics_agreement"] = agreement_dict(agreement)
            print(json.dumps(result, indent=2, default=str))
            return
        print_source_summary(summary, as_json=False)
        if agreement is not None:
            print_agreement(agreement)

    @fetch_app.command("zendesk")
    def fetch_zendesk_command(
        ctx: typer.Context,
        url: Annotated[
            str | None,
            typer.Option(help="The account's URL, e.g. https://acme.zendesk.com (default: from $ZENDESK_SUBDOMAIN)."),
        ] = None,
        streams: Annotated[
            list[str] | None,
            typer.Option(
                "--stream",
                help="Fetch only this stream (repeatable): users, groups, organizations, "
                "ticket_events, tickets, satisfaction_ratings.",
            ),
        ] = None,
        output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    ) -> None:
        """Fetch what changed in a Zendesk account since the last fetch and rebuild the tickets.

        Credentials come from $ZENDESK_EMAIL and $ZENDESK_API_TOKEN only. Each stream resumes from the cursor
        stored after its last stored page; a 429 is retried after the Retry-After it asks for."""
        from deskpulse.cli import settings_of
        from deskpulse.commands.imports import print_fetch_report
        from deskpulse.sources.zendesk_api import STREAM_NAMES, account_from_environment, fetch_zendesk
        from deskpulse.store import Store

        settings = settings_of(ctx)
        config = settings.config()
        account = account_from_environment(url)
        with Store.open(settings.db) as store:
            report = fetch_zendesk(store, config, account, streams=tuple(streams) if streams else STREAM_NAMES)
        print_fetch_report(report, as_json=output is Output.json)


def agreement_dict(agreement: Agreement) -> dict[str, object]:
    return {
        "tickets_with_metrics": agreement.with_metrics,
        "tickets_known": agreement.known,
        "measures": agreement.summary(),
    }


def print_agreement(agreement: Agreement) -> None:
    """One line per measure and clock, then each kind of difference with its explanation."""
    from deskpulse.cli import console
    from deskpulse.sources.zendesk_agreement import KINDS

    if not agreement.with_metrics:
        console.print("ticket_metrics: none read, nothing to compare")
        return
    console.print(
        f"ticket_metrics: {agreement.with_metrics:,} tickets, {agreement.known:,} of them counted here", highlight=False
    )
    for row in agreement.summary():
        share = "n/a" if row["share"] is None else f"{row['share']:.1%}"
        console.print(
            f"  {row['measure']} ({row['clock']}): {row['agree']} of {row['compared']} agree within a minute ({share})",
            highlight=False,
        )
        for kind, count in row["kinds"].items():
            console.print(f"    {count:>5} {kind}: {KINDS[kind]}", highlight=False)
