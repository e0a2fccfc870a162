"""`deskpulse gaps`: self-service gaps — categories mostly answered once with a short, templated reply, and
the tickets, agent time and cost a help article would save (docs/trends.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from deskpulse.insight.self_service import CategoryGap, GapReport

TICKETS_SHOWN = 3  # ticket ids per category in the table; --format json and csv list --examples of them


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    @app.command()
    def gaps(
        ctx: typer.Context,
        since: Annotated[str | None, typer.Option(help="Tickets created on or after this day (YYYY-MM-DD).")] = None,
        until: Annotated[
            str | None, typer.Option(help="Tickets created on or before this day (default: the latest ticket's).")
        ] = None,
        days: Annotated[int, typer.Option(min=1, help="Without --since: this many days up to --until.")] = 90,
        min_tickets: Annotated[int, typer.Option(min=1, help="A candidate has at least this many tickets.")] = 10,
        min_one_touch: Annotated[
            float,
            typer.Option(min=0.0, max=1.0, help="… this share of its resolved tickets resolved with one reply."),
        ] = 0.6,
        max_words: Annotated[
            float, typer.Option(min=0.0, help="… and a median first answer of at most this many words.")
        ] = 100,
        examples: Annotated[int, typer.Option(min=0, help="One-touch ticket ids per category.")] = 5,
        show_all: Annotated[
            bool, typer.Option("--all", help="Show every category in the table, not only the candidates.")
        ] = False,
        output: Annotated[Format, typer.Option("--format", help="table, json or csv (one row per category).")] = (
            Format.table
        ),
    ) -> None:
        """Categories and subcategories with many tickets, mostly resolved with one short, templated answer:
        candidates for a help article or a product fix, ranked by one-touch tickets × shortness × similarity,
        with the tickets, agent time and cost they would save and the most typical answer."""
        from deskpulse import render
        from deskpulse.cli import settings_of
        from deskpulse.commands.trends import parse_day
        from deskpulse.insight.self_service import CSV_COLUMNS, GapOptions, find_gaps
        from deskpulse.store import Store

        settings = settings_of(ctx)
        config = settings.config()
        options = GapOptions(
            since=parse_day("--since", since),
            until=parse_day("--until", until),
            days=days,
            min_tickets=min_tickets,
            min_one_touch=min_one_touch,
            max_words=max_words,
            examples=examples,
        )
        with Store.open(settings.db, read_only=True) as store:
            report = find_gaps(store, config, options)
        if output is Format.json:
            print(json.dumps(report.as_json(), indent=2))
        elif output is Format.csv:
            print(render.records_csv(CSV_COLUMNS, report.rows()), end="")
        else:
            _print_report(report, show_all)


def _print_report(report: GapReport, show_all: bool) -> None:
    from rich.table import Table

    from deskpulse.cli import console

    options = report.options
    console.print(
        f"Self-service gaps among {report.tickets} tickets created {report.since} … {report.until} "
        f"({report.timezone}): candidates have ≥ {options.min_tickets} tickets, ≥ {options.min_one_touch:.0%} "
        f"one-touch and a median answer of ≤ {options.max_words:g} words.",
        highlight=False,
    )
    if report.cost_per_ticket is not None:
        console.print(f"Cost per ticket in the range: {report.cost_per_ticket:,.2f} {report.currency}.")
    else:
        console.print(f"[yellow]note:[/] {report.cost_note}.", highlight=False)
    shown = report.categories if show_all else report.candidates
    if not shown:
        console.print("No category qualifies; --all shows them all, with the thresholds each misses.")
        return
    table = Table(header_style="bold")
    for column in ("category", "score", "tickets", "one-touch", "median\nwords", "similarity", "saves"):
        table.add_column(column, justify="left" if column == "category" else "right")
    table.add_column("example tickets")
    for gap in shown:
        table.add_row(
            gap.category + ("" if gap.candidate else f"\n[dim]misses {', '.join(gap.misses)}[/]"),
            "–" if gap.score is None else f"{gap.score:.1f}",
            f"{gap.tickets} ({gap.share:.0%})",
            "–" if gap.one_touch_share is None else f"{gap.one_touch} ({gap.one_touch_share:.0%})",
            "–" if gap.median_words is None else f"{gap.median_words:g}",
            "–" if gap.similarity is None else f"{gap.similarity:.2f}",
            _saving(gap, report.currency),
            " ".join(gap.ticket_ids[:TICKETS_SHOWN]),
        )
    console.print(table)
    for gap in shown:
        if gap.candidate and gap.typical_reply:
            console.print(f"[bold]{gap.category}[/] — typical answer ({gap.typical_ticket_id}):", highlight=False)
            console.print("  " + gap.typical_reply.replace("\n", "\n  "), highlight=False, markup=False)


def _saving(gap: CategoryGap, currency: str) -> str:
    from deskpulse.render import human_duration

    parts = [f"{gap.one_touch} tickets"]
    if gap.cost_saved is not None:
        parts.append(f"{gap.cost_saved:,.0f} {currency}")
    if gap.handle_seconds is not None:
        parts.append(f"{human_duration(gap.handle_seconds)} tracked ({gap.tracked_tickets})")
    return "\n".join(parts)
