"""The command groups connectors add to: `deskpulse import <source> PATH…` reads a help desk's export files,
`deskpulse fetch <source>` reads its API. Each connector's own module (commands/import_<source>.py) registers
its subcommand on these groups; the summary every one prints is the same (`print_source_summary`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from deskpulse.sources.api_client import FetchReport
    from deskpulse.sources.canonical import SourceSummary

import_app = typer.Typer(help="Read a help desk's export files into the store (see docs/connectors.md).")
fetch_app = typer.Typer(help="Read a help desk's API into the store, incrementally (see docs/connectors.md).")


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
    app.add_typer(fetch_app, name="fetch")


def print_source_summary(summary: SourceSummary, as_json: bool) -> None:
    """One line per count, then the first problems; or the JSON of the summary."""
    from deskpulse.cli import console

    if as_json:
        print(json.dumps(summary.as_dict(), indent=2, default=str))
        return
    console.print(
        f"{summary.source}: {summary.read:,} records read, {summary.stored:,} stored, {summary.updated:,} updated, "
        f"{summary.duplicates:,} already stored, {summary.quarantined:,} quarantined; {summary.tickets:,} tickets"
    )
    for position, reason, detail in summary.problems[:20]:
        console.print(f"  {position}: {reason}: {detail}", highlight=False)


def print_fetch_report(report: FetchReport, as_json: bool) -> None:
    """A live fetch's summary, then where each stream started and the rate limits waited out; or its JSON."""
    from deskpulse.cli import console

    if as_json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
        return
    print_source_summary(report.summary, as_json=False)
    for stream in report.streams:
        start = f"from {stream.resumed_from}" if stream.resumed_from else "from the start"
        console.print(f"  {stream.name}: {stream.pages} pages {start}", highlight=False)
    if report.waits:
        console.print(f"  rate limited {len(report.waits)} times; waited {sum(report.waits):g} s as asked")
