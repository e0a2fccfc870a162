"""`deskpulse import csv --mapping FILE [PATH…]`: any tool's CSV or JSONL export, read through a mapping file
(docs/connectors.md, "Generic CSV / JSONL")."""

from __future__ import annotations

import json
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

SHOWN = 5  # problems of each reason the text summary shows; the JSON lists them all


class Output(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    from deskpulse.commands.imports import import_app

    import_app.command("csv")(import_csv)


def import_csv(
    ctx: typer.Context,
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", help="The TOML file that maps the export's columns to deskpulse's.")
    ],
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Files or folders to read; each file is read for every kind whose `file` pattern matches its name. "
            "Default: the files the mapping names, next to it."
        ),
    ] = None,
    output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
) -> None:
    """Import tickets, messages, events, surveys and time entries from CSV or JSONL files (also .gz, or one file
    in a .zip). A row that cannot be used is quarantined with its file, line and field; the rest is imported.
    Importing the same files again changes nothing."""
    from deskpulse.cli import console, settings_of
    from deskpulse.commands.imports import print_source_summary
    from deskpulse.sources.tabular import import_tabular
    from deskpulse.sources.tabular_mapping import read_mapping
    from deskpulse.store import Store

    settings = settings_of(ctx)
    config = settings.config()
    parsed = read_mapping(mapping, config.helpdesk.timezone)
    with Store.open(settings.db) as store:
        result = import_tabular(store, config, parsed, paths or [])
    problems = result.problems_by_reason()
    if output is Output.json:
        files = [{"kind": f.kind, "path": str(f.path), "rows": f.rows, "skipped": f.skipped} for f in result.files]
        by_reason = {
            reason: {"count": len(found), "problems": [f"{position}: {detail}" for position, detail in found]}
            for reason, found in problems.items()
        }
        document = {**result.summary.as_dict(), "files": files, "problems_by_reason": by_reason}
        print(json.dumps(document, indent=2, default=str))
        return
    for read in result.files:
        skipped = f" ({read.skipped:,} skipped: no {', '.join(parsed.kinds[read.kind].skip_without)})"
        console.print(f"{read.path}: {read.rows:,} rows as {read.kind}{skipped if read.skipped else ''}")
    unread = [kind for kind in parsed.kinds if not any(f.kind == kind for f in result.files)]
    if unread:
        console.print(f"No file for: {', '.join(unread)}")
    print_source_summary(replace(result.summary, problems=[]), as_json=False)
    for reason, found in problems.items():
        console.print(f"{reason}: {len(found):,}", highlight=False)
        for position, detail in found[:SHOWN]:
            console.print(f"  {position}: {detail}", highlight=False)
        if len(found) > SHOWN:
            console.print(f"  … and {len(found) - SHOWN:,} more (--format json lists them all)", highlight=False)
