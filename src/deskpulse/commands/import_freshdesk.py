"""`deskpulse import freshdesk PATH…` and `deskpulse fetch freshdesk`: Freshdesk API v1/v2 JSON, saved or fetched
live, into the store (docs/connectors.md, "Freshdesk")."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from deskpulse.sources.freshdesk import FirstResponseAgreement


class Output(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    from deskpulse.commands.imports import fetch_app, import_app

    import_app.command("freshdesk")(import_freshdesk)
    fetch_app.command("freshdesk")(fetch_freshdesk)


def import_freshdesk(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of saved API responses (*.json, *.jsonl).")],
    statuses: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help='A custom status: its code and what it means, e.g. --status "6=waiting on customer" '
            "(open, pending, on-hold, resolved, …); repeatable.",
        ),
    ] = None,
    output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
) -> None:
    """Import tickets (with their description and conversations), agents, contacts, companies, groups, time
    entries and satisfaction ratings, whichever the files hold; then compare our first responses with Freshdesk's
    own (stats.first_responded_at). A record that cannot be used is quarantined with its reason. Importing the
    same files again changes nothing; a ticket that changed replaces its stored row."""
    from deskpulse.cli import settings_of
    from deskpulse.commands.imports import print_source_summary
    from deskpulse.sources.freshdesk import import_freshdesk as run_import
    from deskpulse.store import Store

    custom = _custom_statuses(statuses or [])
    settings = settings_of(ctx)
    config = settings.config()
    with Store.open(settings.db) as store:
        summary, agreement = run_import(store, config, paths, custom)
    if output is Output.json:
        print(json.dumps({**summary.as_dict(), "first_response_agreement": agreement.as_dict()}, indent=2))
        return
    print_source_summary(summary, False)
    _print_agreement(agreement)


def fetch_freshdesk(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(help="The account's URL, e.g. https://acme.freshdesk.com (default: from $FRESHDESK_DOMAIN)."),
    ] = None,
    statuses: Annotated[
        list[str] | None,
        typer.Option("--status", help='A custom status: its code and what it means, as for import, e.g. "6=on hold".'),
    ] = None,
    output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
) -> None:
    """Fetch the tickets (with their conversations and time entries), agents, groups and satisfaction ratings
    changed in a Freshdesk account since the last fetch, rebuild the tickets, and compare our first responses
    with Freshdesk's.

    The API key comes from $FRESHDESK_API_KEY only. The tickets resume from the `updated_at` stored after their
    last stored page; a 429 is retried after the Retry-After it asks for."""
    from deskpulse.cli import settings_of
    from deskpulse.commands.imports import print_fetch_report
    from deskpulse.sources.freshdesk_api import account_from_environment
    from deskpulse.sources.freshdesk_api import fetch_freshdesk as run_fetch
    from deskpulse.store import Store

    custom = _custom_statuses(statuses or [])
    settings = settings_of(ctx)
    config = settings.config()
    account = account_from_environment(url)
    with Store.open(settings.db) as store:
        report = run_fetch(store, config, account, custom_statuses=custom)
    print_fetch_report(report, as_json=output is Output.json)
    if output is not Output.json:
        _print_agreement(report.agreement)


def _print_agreement(agreement: FirstResponseAgreement) -> None:
    from deskpulse.cli import console
    from deskpulse.sources.freshdesk import AGREEMENT_SECONDS

    if not agreement.compared:
        return
    console.print(
        f"first response vs Freshdesk's stats.first_responded_at: {agreement.agreeing} of {agreement.compared} "
        f"tickets agree within {AGREEMENT_SECONDS} s"
    )
    for ticket, ours, theirs in agreement.differing[:20]:
        console.print(f"  ticket {ticket}: ours {ours:%Y-%m-%d %H:%M:%S}, Freshdesk's {theirs:%Y-%m-%d %H:%M:%S}")
    if agreement.only_freshdesk:
        console.print(f"  no agent reply among the conversations read: tickets {', '.join(agreement.only_freshdesk)}")


def _custom_statuses(options: list[str]) -> dict[int, str]:
    """``["6=waiting on customer"]`` → {6: "waiting on customer"}, each word one deskpulse knows."""
    from deskpulse.sources.canonical import STATUSES, canonical_status

    custom: dict[int, str] = {}
    for option in options:
        code, _, word = option.partition("=")
        if not code.strip().isdigit() or canonical_status(word) is None:
            raise typer.BadParameter(
                f"{option!r} is not CODE=STATUS; STATUS is one of {', '.join(sorted(STATUSES))}", param_hint="--status"
            )
        custom[int(code)] = word.strip().lower()
    return custom
