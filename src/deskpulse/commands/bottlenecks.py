"""`deskpulse bottlenecks`: the categories and tickets that cost the most work and waiting (docs/trends.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from deskpulse.insight.bottlenecks import BottleneckReport, CategoryFigure, Measure


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    @app.command()
    def bottlenecks(
        ctx: typer.Context,
        since: Annotated[str | None, typer.Option(help="Tickets created on or after this day (YYYY-MM-DD).")] = None,
        until: Annotated[str | None, typer.Option(help="Tickets created on or before this day.")] = None,
        top_level: Annotated[
            bool, typer.Option("--top-level", help="Group by top-level category (Billing), not the full path.")
        ] = False,
        min_tickets: Annotated[
            int, typer.Option(min=1, help="Tickets a category needs to be compared with the median category.")
        ] = 5,
        examples: Annotated[int, typer.Option(min=0, help="Ticket ids per category and measure, worst first.")] = 10,
        limit: Annotated[int, typer.Option(min=0, help="Tickets in each overall top list.")] = 10,
        output: Annotated[Format, typer.Option("--format", help="table, json or csv (one row per category).")] = (
            Format.table
        ),
    ) -> None:
        """Per category: handle time, replies, customer wait, reassignments and reopens, each as a ratio to the
        median category, with the worst tickets behind it; then the worst tickets overall."""
        from deskpulse import render
        from deskpulse.cli import settings_of
        from deskpulse.commands.trends import parse_day
        from deskpulse.insight.bottlenecks import CSV_COLUMNS, BottleneckOptions, find_bottlenecks
        from deskpulse.store import Store

        settings = settings_of(ctx)
        config = settings.config()
        options = BottleneckOptions(
            since=parse_day("--since", since),
            until=parse_day("--until", until),
            top_level=top_level,
            min_tickets=min_tickets,
            examples=examples,
            limit=limit,
        )
        with Store.open(settings.db, read_only=True) as store:
            report = find_bottlenecks(store, config, options)
        if output is Format.json:
            print(json.dumps(report.as_json(), indent=2))
        elif output is Format.csv:
            print(render.records_csv(CSV_COLUMNS, report.rows()), end="")
        else:
            _print_report(report)


def _print_report(report: BottleneckReport) -> None:
    from rich.table import Table

    from deskpulse.cli import console
    from deskpulse.insight.bottlenecks import MEASURES

    table = Table(
        title=f"Bottlenecks per category (ratio to the median category; compared from "
        f"{report.options.min_tickets} tickets)",
        header_style="bold",
    )
    table.add_column("category")
    table.add_column("tickets", justify="right")
    for measure in MEASURES:
        table.add_column(f"{measure.label}\n({measure.statistic})", justify="right")
    table.add_column("reopen\nloops", justify="right")
    table.add_column("worst tickets (handle time)")
    for category in report.categories:
        table.add_row(
            category.category,
            str(category.tickets),
            *(_cell(measure, category.figures[measure.id]) for measure in MEASURES),
            str(category.reopen_loops),
            " ".join(category.figures["handle_time"].ticket_ids[:3]),
        )
    console.print(table)
    medians = ", ".join(
        f"{m.label.lower()} {_value(m, report.medians[m.id])}" for m in MEASURES if report.medians[m.id] is not None
    )
    if medians:
        console.print(f"Median category: {medians}.", highlight=False)
    for measure in MEASURES:
        tickets = report.top_tickets[measure.id]
        if not tickets:
            continue
        top = Table(title=f"Top tickets by {measure.label.lower()}", header_style="bold")
        for column in ("ticket", "category", "subject", measure.label.lower()):
            top.add_column(column, overflow="ellipsis", no_wrap=True, max_width=40 if column == "subject" else None)
        for ticket in tickets:
            value = _value(measure, ticket.value) + (f" ({ticket.source})" if ticket.source else "")
            top.add_row(ticket.ticket_id, ticket.category, ticket.subject or "", value)
        console.print(top)


def _cell(measure: Measure, figure: CategoryFigure) -> str:
    if figure.value is None:
        return "–"
    ratio = "" if figure.ratio is None else f" ({figure.ratio:.1f}×)"
    return _value(measure, figure.value) + ratio


def _value(measure: Measure, value: float | None) -> str:
    from deskpulse.render import human_duration

    if value is None:
        return "–"
    return human_duration(value) if measure.is_duration else f"{value:.2f}"
