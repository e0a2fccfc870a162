"""`deskpulse surveys send|status|link`: post-interaction CSAT and CES surveys (docs/surveys.md). `send` is made for
cron; `deskpulse serve` runs the same loop itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

if TYPE_CHECKING:
    from deskpulse.surveys.send import SendReport
    from deskpulse.surveys.status import SurveyStatus


class Output(StrEnum):
    text = "text"
    json = "json"


class TableOutput(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    surveys_app = typer.Typer(
        help="Post-interaction surveys: CSAT and CES after a ticket resolves.", no_args_is_help=True
    )
    app.add_typer(surveys_app, name="surveys")

    @surveys_app.command("send")
    def send(
        ctx: typer.Context,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Show who would get a survey; record nothing, send nothing.")
        ] = False,
        now: Annotated[
            str | None,
            typer.Option(
                help="Judge what is due as of this instant, e.g. 2026-03-04T09:00 (the reporting timezone unless it "
                "names an offset); it is also the surveys' sent_at. Default: the clock."
            ),
        ] = None,
        output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    ) -> None:
        """Mail a survey for every ticket resolved delay_hours ago (within lookback_days; the surveys section of
        deskpulse.toml), except to customers who opted out or were asked within customer_days; first mark the
        surveys that bounced. Exits with 1 when the SMTP server could not be used (the rest goes at the next run)."""
        from deskpulse.cli import settings_of
        from deskpulse.state import connect_state, state_path
        from deskpulse.store import Store
        from deskpulse.surveys.send import send_due_surveys

        settings = settings_of(ctx)
        config = settings.config()
        instant = _instant(now, config.helpdesk.timezone)
        path = state_path(settings.db)
        state = connect_state(path if not dry_run or path.exists() else Path(":memory:"))
        try:
            with Store.open(settings.db, read_only=dry_run) as store:
                report = send_due_surveys(store, config, state, now=instant, dry_run=dry_run)
        finally:
            state.close()
        if output is Output.json:
            print(json.dumps(report.as_json(), indent=2))
        else:
            _print_send(report)
        if report.error is not None:
            raise typer.Exit(1)

    @surveys_app.command("status")
    def status(
        ctx: typer.Context,
        since: Annotated[str | None, typer.Option(help="Surveys sent on or after this day (YYYY-MM-DD).")] = None,
        comments: Annotated[int, typer.Option(min=0, help="The newest comments to list, with their sentiment.")] = 10,
        output: Annotated[
            TableOutput, typer.Option("--format", help="table, json or csv (csv: one row per agent, then all).")
        ] = TableOutput.table,
    ) -> None:
        """Our surveys, in total and per agent: sent, delivered, bounced, answered, response rate, CSAT and CES;
        the opt-outs; the newest comments with their sentiment and category."""
        from deskpulse import render
        from deskpulse.cli import settings_of
        from deskpulse.commands.trends import parse_day
        from deskpulse.state import connect_state, state_path
        from deskpulse.store import Store
        from deskpulse.surveys.status import COLUMNS, survey_status

        settings = settings_of(ctx)
        config = settings.config()
        day = parse_day("--since", since)
        start = None
        if day is not None:
            local = datetime.combine(day, time(), ZoneInfo(config.helpdesk.timezone))
            start = local.astimezone(UTC).replace(tzinfo=None)
        path = state_path(settings.db)
        state = connect_state(path if path.exists() else Path(":memory:"))
        try:
            with Store.open(settings.db, read_only=True) as store:
                report = survey_status(store, state, start, comments)
        finally:
            state.close()
        if output is TableOutput.json:
            print(json.dumps(report.as_json(), indent=2, default=lambda instant: instant.isoformat()))
        elif output is TableOutput.csv:
            rows = [row.as_json() for row in [*report.per_agent, report.total]]
            print(render.records_csv(COLUMNS, rows), end="")
        else:
            _print_status(report)

    @surveys_app.command("link")
    def link(
        ctx: typer.Context,
        ticket: Annotated[str, typer.Argument(help="The ticket id, as `deskpulse tickets` lists it (T-…).")],
    ) -> None:
        """Print a survey link for one ticket, to paste into another help desk's reply, macro or signature ("link
        only" mode). The first link records the ticket's survey; asking again links the same survey."""
        from deskpulse.cli import settings_of
        from deskpulse.state import connect_state, state_path
        from deskpulse.store import Store
        from deskpulse.surveys.send import link_survey

        settings = settings_of(ctx)
        config = settings.config()
        state = connect_state(state_path(settings.db))
        try:
            with Store.open(settings.db) as store:
                made = link_survey(store, config, state, ticket)
        finally:
            state.close()
        print(made.url)


def _instant(text: str | None, timezone: str) -> datetime | None:
    """--now as an aware instant; without an offset it is wall-clock time in the reporting timezone."""
    if text is None:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a time like 2026-03-04T09:00", param_hint="--now") from exc
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=ZoneInfo(timezone))


def _print_send(report: SendReport) -> None:
    from rich.markup import escape

    from deskpulse.cli import console

    if report.busy:
        console.print("Another survey run is sending right now; this one did nothing.")
        return
    verb = "would send" if report.dry_run else "sent"
    console.print(
        f"Surveys as of {report.now:%Y-%m-%d %H:%M} UTC: {report.due} tickets due, {len(report.sent)} {verb}, "
        f"{len(report.refused)} refused by the server (bounced), {len(report.opted_out)} skipped (opted out), "
        f"{len(report.throttled)} skipped (asked recently); {len(report.bounced)} earlier surveys bounced.",
        highlight=False,
    )
    for outcome in report.sent:
        console.print(f"  {verb}: {outcome.ticket_id} to {outcome.recipient}", markup=False, highlight=False)
    for outcome in report.refused:
        console.print(f"  bounced: {outcome.ticket_id} to {outcome.recipient}: {outcome.detail}", markup=False)
    if report.error is not None:
        console.print(f"[red]stopped:[/] {escape(report.error)} (the rest goes at the next run)", highlight=False)


def _print_status(report: SurveyStatus) -> None:
    from rich.table import Table
    from rich.text import Text

    from deskpulse.cli import console

    table = Table(title="Our surveys", header_style="bold")
    for column in ("agent", "sent", "delivered", "bounced", "answered", "response rate", "CSAT", "CES"):
        table.add_column(column, justify="left" if column == "agent" else "right")
    for row in [*report.per_agent, report.total]:
        table.add_row(
            Text(row.agent),
            str(row.sent),
            str(row.delivered),
            str(row.bounced),
            str(row.answered),
            _share(row.response_rate),
            _share(row.csat),
            "–" if row.ces is None else f"{row.ces:.2f}",
        )
    console.print(table)
    console.print(f"Opted out: {report.opt_outs} customer{'s' if report.opt_outs != 1 else ''}.", highlight=False)
    if report.comments:
        comments = Table(title="Newest comments", header_style="bold")
        for column in ("answered (UTC)", "ticket", "agent", "CSAT", "sentiment", "category", "comment"):
            comments.add_column(column)
        for comment in report.comments:
            mood = "–" if comment.sentiment is None else f"{comment.sentiment:+.2f} {comment.sentiment_label}"
            comments.add_row(  # Text, not markup: a comment is the customer's, "[bold]" in it stays as typed
                f"{comment.answered_at:%Y-%m-%d %H:%M}",
                Text(comment.ticket_id),
                Text(comment.agent or "–"),
                str(comment.csat),
                mood,
                Text(comment.category or "–"),
                Text(comment.comment),
            )
        console.print(comments)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"
