"""`deskpulse trends`: spikes, sustained rises and emerging topics in ticket volume (docs/trends.md)."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from deskpulse.insight.trends import Finding, TrendReport

TICKETS_SHOWN = 5  # ticket ids per finding in the table; --format json and csv list them all


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    @app.command()
    def trends(
        ctx: typer.Context,
        days: Annotated[
            int,
            typer.Option(min=1, help="The recent window in days: findings ending in it, topics from its tickets."),
        ] = 28,
        since: Annotated[
            str | None, typer.Option(help="List spikes and rises ending on or after this day instead (YYYY-MM-DD).")
        ] = None,
        until: Annotated[
            str | None, typer.Option(help="Take this day for today, ignoring later tickets (default: the latest).")
        ] = None,
        alpha: Annotated[
            float, typer.Option(min=0.0, max=1.0, help="A spike's p-value must be below this (smaller: fewer).")
        ] = 0.001,
        min_count: Annotated[int, typer.Option(min=1, help="A spike holds at least this many tickets.")] = 5,
        min_ratio: Annotated[
            float, typer.Option(min=1.0, help="A spike is at least this many times its expected count.")
        ] = 1.5,
        rise_weeks: Annotated[
            int, typer.Option(min=1, help="Consecutive weeks above the baseline that make a sustained rise.")
        ] = 3,
        topics: Annotated[
            bool, typer.Option("--topics/--no-topics", help="Cluster the unclassified tickets into topics.")
        ] = True,
        counts: Annotated[bool, typer.Option("--counts", help="Also show the weekly counts per category.")] = False,
        output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
    ) -> None:
        """Spikes (days far above the weekday-aware baseline), sustained rises (weeks in a row above it) per
        category and subcategory, and new or growing topics among the unclassified tickets, each with the
        ticket ids behind it."""
        from dataclasses import replace

        from deskpulse import render
        from deskpulse.cli import settings_of
        from deskpulse.insight.trends import CSV_COLUMNS, TrendOptions, find_trends
        from deskpulse.store import Store

        settings = settings_of(ctx)
        config = settings.config()
        defaults = TrendOptions()
        options = replace(
            defaults,
            days=days,
            since=parse_day("--since", since),
            until=parse_day("--until", until),
            spikes=replace(defaults.spikes, alpha=alpha, min_count=min_count, min_ratio=min_ratio),
            rises=replace(defaults.rises, weeks=rise_weeks),
            find_topics=topics,
        )
        with Store.open(settings.db, read_only=True) as store:
            report = find_trends(store, config, options)
        if output is Format.json:
            print(json.dumps(report.as_json(), indent=2, default=_json_default))
        elif output is Format.csv:
            print(render.records_csv(CSV_COLUMNS, report.rows()), end="")
        else:
            _print_report(report, counts)


def _print_report(report: TrendReport, counts: bool) -> None:
    from rich.table import Table

    from deskpulse.cli import console

    console.print(
        f"Trends to {report.window_last_day} ({report.timezone}): spikes and rises ending from "
        f"{report.reported_from}; topics of {report.window_first_day} … {report.window_last_day}."
    )
    if report.gaps:
        days = sum((last - first).days + 1 for first, last in report.gaps)
        first, last = report.gaps[-1]
        console.print(
            f"[yellow]note:[/] {len(report.gaps)} gaps in the data ({days} days without a single ticket where "
            f"several were due; the latest {first} … {last}) are neither learnt from nor tested.",
            highlight=False,
        )
    for title, findings in (("Spikes", report.spikes), ("Sustained rises", report.rises)):
        if not findings:
            console.print(f"{title}: none.")
            continue
        table = Table(title=title, header_style="bold")
        for column in ("series", "when", "tickets", "expected", "ratio", "p-value", "ticket ids"):
            table.add_column(column, justify="right" if column in ("tickets", "expected", "ratio") else "left")
        for finding in findings:
            table.add_row(
                finding.series,
                _when(finding),
                str(finding.observed),
                f"{finding.expected:.1f}",
                f"{finding.ratio:.1f}×",
                f"{finding.p_value:.1e}",
                _ids(finding.ticket_ids),
            )
        console.print(table)
    if report.topics:
        table = Table(title="Emerging topics (unclassified tickets)", header_style="bold")
        for column in ("top terms", "tickets", "before", "p-value", "examples"):
            table.add_column(column, justify="right" if column in ("tickets", "before") else "left")
        for topic in report.topics:
            before = "new" if topic.is_new else f"{topic.reference_tickets} ({topic.expected:.1f} due)"
            examples = "\n".join(
                f"{ticket_id} {subject[:48]}"
                for ticket_id, subject in zip(
                    topic.ticket_ids[:TICKETS_SHOWN], topic.subjects[:TICKETS_SHOWN], strict=True
                )
            )
            table.add_row(", ".join(topic.terms), str(topic.tickets), before, f"{topic.p_value:.1e}", examples)
        console.print(table)
    else:
        console.print("Emerging topics: none.")
    if counts:
        _print_counts(report)


def _print_counts(report: TrendReport) -> None:
    """Weekly tickets of all tickets and of each top-level category over the window."""
    from rich.table import Table

    from deskpulse.cli import console

    shown = [c for c in report.counts if c.level != "subcategory"]
    weeks = sorted({week for c in shown for week, _, _ in c.weeks})
    table = Table(title="Tickets per week (* the data does not cover the whole week)", header_style="bold")
    table.add_column("series")
    complete = {week for c in shown for week, _, whole in c.weeks if whole}
    for week in weeks:
        table.add_column(week + ("" if week in complete else "*"), justify="right")
    for series in shown:
        per_week = {week: tickets for week, tickets, _ in series.weeks}
        table.add_row(series.series, *(str(per_week.get(week, 0)) for week in weeks))
    console.print(table)


def _when(finding: Finding) -> str:
    if finding.kind == "rise":
        return f"{finding.first_week} … {finding.last_week}"
    if finding.first_day == finding.last_day:
        return f"{finding.first_day} ({finding.first_day:%a})"
    return f"{finding.first_day} … {finding.last_day}"


def _ids(ticket_ids: list[str]) -> str:
    shown = " ".join(ticket_ids[:TICKETS_SHOWN])
    more = len(ticket_ids) - TICKETS_SHOWN
    return shown + (f" +{more} more" if more > 0 else "")


def parse_day(option: str, value: str | None) -> date | None:
    """A --since/--until value as a date, or a usage error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-03-01", param_hint=option) from exc


def _json_default(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
