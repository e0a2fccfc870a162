"""`deskpulse alerts run`: detect spikes, angry customers, SLA breaches and guardrail warnings and send what is
new to the webhooks and the e-mail digest of `[alerts]` (docs/alerts.md). Made for cron; `deskpulse serve` runs
the same loop itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

if TYPE_CHECKING:
    from deskpulse.alerts.run import AlertRun


class Output(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    alerts_app = typer.Typer(help="Alerts and digests: webhooks and e-mail for what needs attention now.")
    app.add_typer(alerts_app, name="alerts")

    @alerts_app.command("run")
    def run_command(
        ctx: typer.Context,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Show what would go out; record nothing, send nothing.")
        ] = False,
        now: Annotated[
            str | None,
            typer.Option(
                help="Detect as of this instant, e.g. 2026-03-04T09:00 (the reporting timezone unless it names "
                "an offset). Default: the store's latest activity."
            ),
        ] = None,
        output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    ) -> None:
        """Detect the alerts as of now, send the new ones (once per channel, after a subject's cooldown) to every
        webhook and as one e-mail digest, and try again what failed before. Exits with 1 when a delivery failed
        (it is tried again at the next run)."""
        from deskpulse.alerts.run import run_alerts
        from deskpulse.alerts.settings import alerts_config
        from deskpulse.cli import settings_of
        from deskpulse.state import connect_state, state_path
        from deskpulse.store import Store

        settings = settings_of(ctx)
        config = settings.config()
        instant = _instant(now, config.helpdesk.timezone)
        path = state_path(settings.db)
        # A run that records nothing (a dry run, or no channel to send to) leaves no state file where there was none.
        records = not dry_run and bool(alerts_config(config).channels)
        state = connect_state(path if records or path.exists() else Path(":memory:"))
        try:
            with Store.open(settings.db, read_only=True) as store:
                run = run_alerts(store, config, state, now=instant, dry_run=dry_run)
        finally:
            state.close()
        if output is Output.json:
            print(json.dumps(run.as_json(), indent=2))
        else:
            _print_run(run, config.helpdesk.timezone, explicit=instant is not None)
        if run.failed:
            raise typer.Exit(1)


def _instant(text: str | None, timezone: str) -> datetime | None:
    """--now as an aware instant; without an offset it is wall-clock time in the reporting timezone."""
    if text is None:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a time like 2026-03-04T09:00", param_hint="--now") from exc
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=ZoneInfo(timezone))


def _print_run(run: AlertRun, timezone: str, *, explicit: bool) -> None:
    from rich.markup import escape

    from deskpulse.alerts.deliver import KIND_TITLES
    from deskpulse.cli import console

    if run.now is None:
        console.print("The store is empty: nothing to alert about.")
        return
    if run.busy:
        console.print("Another alert run is delivering right now; this one did nothing.")
        return
    zone = ZoneInfo(timezone)
    when = f"{run.now.replace(tzinfo=UTC).astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"
    known = len(run.found) - len(run.new) - len(run.held)
    console.print(
        f"Alerts as of {when}{'' if explicit else ' (the store’s latest activity)'}: {len(run.found)} found, "
        f"{len(run.new)} new, {len(run.held)} held back by the cooldown, {known} recorded before.",
        highlight=False,
    )
    for title, alerts in (("New", run.new), ("Held back (cooldown)", run.held)):
        if alerts:
            console.print(f"[bold]{title}[/]")
            for alert in alerts:
                console.print(f"  [{KIND_TITLES[alert.kind]}] {alert.text}", markup=False, highlight=False)
    if not run.channels:
        console.print(
            "No channel configured ([[alerts.webhooks]] or [alerts.email] in deskpulse.toml): nothing recorded or "
            "sent.",
            markup=False,
        )
        return
    if run.dry_run:
        console.print("Dry run: nothing recorded, nothing sent.")
    for delivery in run.deliveries:
        count = f"{len(delivery.keys)} alert{'s' if len(delivery.keys) != 1 else ''}"
        if delivery.error is not None:
            console.print(
                f"[red]failed:[/] {delivery.channel}, {count}: {escape(delivery.error)} (tried again at the next run)",
                highlight=False,
            )
        else:
            console.print(f"{'sent' if delivery.sent else 'would send'}: {delivery.channel}, {count}", highlight=False)
    if not run.deliveries:
        console.print("Nothing to deliver.")
