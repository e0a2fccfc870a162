"""`deskpulse sync imap` and `deskpulse watch`: keep the store up with a live mailbox (docs/imap.md)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from deskpulse.sources.imap_sync import SyncReport


class Output(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    sync_app = typer.Typer(
        help="Fetch new mail from a live source into the store; checkpointed, so run it as often as you like.",
        no_args_is_help=True,
    )
    app.add_typer(sync_app, name="sync")

    @sync_app.command("imap")
    def sync_imap_command(
        ctx: typer.Context,
        folders: Annotated[
            list[str] | None,
            typer.Option("--folder", help="Sync this folder instead of imap.folders (repeatable)."),
        ] = None,
        output: Annotated[Output, typer.Option("--format", help="text (a line per folder) or json.")] = Output.text,
    ) -> None:
        """Fetch what is new in imap.folders since the last sync, store it and update the tickets it touches.

        The password comes from $DESKPULSE_IMAP_PASSWORD or imap.password_file (mode 0600), never from
        deskpulse.toml. Running it again fetches nothing twice."""
        from deskpulse.cli import settings_of
        from deskpulse.sources.imap import account_from_config
        from deskpulse.sources.imap_sync import sync_imap
        from deskpulse.store import Store

        settings = settings_of(ctx)
        config = settings.config()
        account = account_from_config(config)
        with Store.open(settings.db) as store:
            report = sync_imap(store, config, account, folders=tuple(folders) if folders else None)
        if output is Output.json:
            print(json.dumps(report.as_dict(), indent=2))
        else:
            _print_report(report)

    @app.command()
    def watch(
        ctx: typer.Context,
        interval: Annotated[
            float, typer.Option(min=1.0, help="Seconds between two syncs (from the end of one to the next).")
        ] = 60.0,
        once: Annotated[bool, typer.Option("--once", help="Sync once and stop: for cron and tests.")] = False,
    ) -> None:
        """Sync imap.folders every --interval seconds, updating the tickets new mail touches; Ctrl-C stops.

        The store is opened only while a sync runs, so `deskpulse kpis` and the like can read it in between. A
        server that cannot be reached is tried again at the next interval."""
        from deskpulse.cli import console, errors, settings_of
        from deskpulse.sources.imap import ImapUnavailable, account_from_config
        from deskpulse.sources.imap_sync import sync_imap
        from deskpulse.store import Store

        settings = settings_of(ctx)
        config = settings.config()
        account = account_from_config(config)
        console.print(f"Watching {account.source} ({', '.join(config.imap.folders)}) every {interval:g} s.")
        try:
            while True:
                try:
                    with Store.open(settings.db) as store:
                        report = sync_imap(store, config, account)
                    _print_report(report, stamp=True)
                except ImapUnavailable as exc:
                    if once:
                        raise
                    errors.print(f"[yellow]warning:[/] {exc}; trying again in {interval:g} s", highlight=False)
                if once:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            console.print("Stopped. The next sync resumes from the stored checkpoints.")


def _print_report(report: SyncReport, *, stamp: bool = False) -> None:
    from deskpulse.cli import console

    prefix = f"{datetime.now():%Y-%m-%d %H:%M:%S} " if stamp else ""
    console.print(f"{prefix}{report.account}", highlight=False)
    for folder in report.folders:
        summary = folder.summary
        where = ""
        if folder.checkpoint is not None:
            where = f"; up to UID {folder.checkpoint.last_uid} (UIDVALIDITY {folder.checkpoint.uidvalidity})"
        console.print(
            f"  {folder.folder}: read {summary.read:,}, stored {summary.stored:,}, duplicates {summary.duplicates:,}, "
            f"quarantined {summary.quarantined:,}{where}",
            highlight=False,
        )
        if folder.resynced_from is not None:
            console.print(
                f"    [yellow]UIDVALIDITY changed[/] (was {folder.resynced_from}): the server renumbered the folder, "
                "so it was read again; messages already stored were skipped as duplicates",
                highlight=False,
            )
        if folder.reconnects:
            console.print(f"    reconnected {folder.reconnects} time(s) and resumed", highlight=False)
        for reason, count in sorted(summary.quarantine_reasons.items()):
            console.print(f"    quarantined as [yellow]{reason}[/]: {count:,} (see the quarantine table)")
    if report.tickets is None:
        console.print("  Nothing new: tickets unchanged.", highlight=False)
    else:
        console.print(f"  Tickets rebuilt: {report.tickets:,}.", highlight=False)
    if report.insight is not None:
        insight = report.insight
        categorised = "" if insight.categorised is None else f"; categorised {insight.categorised:,} new tickets"
        console.print(
            f"  Sentiment of {insight.scored:,} new customer messages scored; flags raised {insight.raised:,}, "
            f"open {insight.open_flags:,} (deskpulse flags){categorised}.",
            highlight=False,
        )
