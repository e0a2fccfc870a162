"""The `deskpulse` command line: thin Typer commands over the library API."""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from deskpulse import render
from deskpulse.commands import register_all
from deskpulse.config import DEFAULT_DB, Config, load_config
from deskpulse.errors import UserError
from deskpulse.metrics.catalog import TICKET_SORTS, resolve_metric_ids

# The store, the engine and the parser are imported inside the commands that use them: they pull in Ibis,
# DuckDB and Arrow, which `--help` does not need and parser processes (which import this module) must not pay for.
if TYPE_CHECKING:
    from deskpulse.ingest import IngestSummary

app = typer.Typer(
    help="deskpulse: help desk analytics from the mail your support team already has.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
if not console.is_terminal:
    # Piped or logged output has no width to fit; Rich would assume 80 columns and crop wide tables.
    console = Console(width=160)
errors = Console(stderr=True)


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"
    all = "all"


class Dimension(StrEnum):
    agent = "agent"
    team = "team"
    mailbox = "mailbox"
    category = "category"
    subcategory = "subcategory"
    priority = "priority"
    tag = "tag"
    organisation = "organisation"
    flag = "flag"


class LoadKind(StrEnum):
    time_entries = "time-entries"
    surveys = "surveys"


class SummaryFormat(StrEnum):
    text = "text"
    json = "json"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@dataclass
class Settings:
    config_path: Path | None
    db_option: Path | None
    engine: str | None = None

    @property
    def db(self) -> Path:
        return self.db_option or DEFAULT_DB

    def config(self) -> Config:
        return load_config(self.config_path)

    def tables(self) -> Any:
        """Where the metrics read: the engine named by --engine, else the DuckDB store (read-only)."""
        from deskpulse.store import Store

        if self.engine is None:
            return Store.open(self.db, read_only=True)
        from deskpulse.engines import connect_engine, publish

        engine = connect_engine(self.engine)
        if self.engine == "spark":  # a local Spark session starts empty: give it the store's tables
            with Store.open(self.db, read_only=True) as store:
                publish(store, engine, temporary=True)
        return engine


def settings_of(ctx: typer.Context) -> Settings:
    """The global options (--config, --db, --engine) of the command running."""
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config file (default: ./deskpulse.toml when present).")
    ] = None,
    db: Annotated[
        Path | None, typer.Option("--db", help=f"The store: a DuckDB file (default: ./{DEFAULT_DB}).")
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Compute on another engine: postgresql://user@host:port/db or spark (see `publish`).",
        ),
    ] = None,
) -> None:
    ctx.obj = Settings(config, db, engine)


class MessagesPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("–/s" if speed is None else f"{speed:,.0f} messages/s", style="progress.data.speed")


@app.command()
def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="mbox (or .mbox.gz) files, Maildir folders, .eml files or folders.")
    ],
    output: Annotated[
        SummaryFormat, typer.Option("--format", help="text (a summary line) or json.")
    ] = SummaryFormat.text,
) -> None:
    """Import mail into the store. Importing the same mail again adds nothing."""
    from deskpulse.ingest import ingest_paths
    from deskpulse.store import Store

    settings = settings_of(ctx)
    config = settings.config()
    with Store.open(settings.db) as store, _progress() as progress:
        task = progress.add_task("ingest", total=None)
        summary = ingest_paths(store, config, paths, progress=lambda n: progress.advance(task, n))
    if output is SummaryFormat.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        _print_summary(summary)


@app.command()
def rebuild(ctx: typer.Context) -> None:
    """Re-thread the stored mail and rebuild tickets and the stored per-ticket facts with the current config.

    Run it after changing business hours, resolution or threading settings: until then, queries compute the
    facts afresh (correct, but slower on a large store)."""
    from deskpulse.ingest import rebuild_store
    from deskpulse.store import Store

    settings = settings_of(ctx)
    config = settings.config()
    with Store.open(settings.db) as store:
        tickets = rebuild_store(store, config)
    console.print(f"Rebuilt {tickets:,} tickets and their facts in {settings.db}.")


@app.command()
def load(
    ctx: typer.Context,
    kind: Annotated[LoadKind, typer.Argument(help="What the file holds: time-entries or surveys.")],
    path: Annotated[Path, typer.Argument(help="The CSV file (formats: docs/inputs.md).")],
) -> None:
    """Load tracked work (time entries) or survey answers from a CSV file. Loading it again adds nothing."""
    from deskpulse.store import Store

    settings = settings_of(ctx)
    config = settings.config()
    timezone = config.helpdesk.timezone
    with Store.open(settings.db) as store:
        if kind is LoadKind.time_entries:
            from deskpulse.inputs.time_entries import load_time_entries

            added = load_time_entries(store, path, timezone)
        else:
            from deskpulse.inputs.surveys import load_surveys

            added = load_surveys(store, path, timezone)
    console.print(f"{path}: {added:,} new {kind.value.replace('-', ' ')} stored")


@app.command()
def kpis(
    ctx: typer.Context,
    period: Annotated[Period, typer.Option(help="Bucket by local period (reporting timezone).")] = Period.month,
    by: Annotated[
        list[Dimension] | None,
        typer.Option(
            "--by", help="Group by agent, team, mailbox, category, priority, tag or organisation (repeatable)."
        ),
    ] = None,
    filters: Annotated[
        list[str] | None,
        typer.Option(
            "--filter",
            help="Keep only DIMENSION=VALUE[,VALUE…], e.g. priority=urgent,high or team=Billing (repeatable).",
        ),
    ] = None,
    metrics: Annotated[
        str | None, typer.Option(help="Comma-separated metric ids, or 'all'. Default: the scorecard.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="First local day included (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Last local day included (YYYY-MM-DD).")] = None,
    output: Annotated[Format, typer.Option("--format", help="table, json (spec §4) or csv.")] = Format.table,
) -> None:
    """Any KPI of docs/metrics.md per period, grouped and filtered by agent, team, mailbox, category, priority,
    tag or organisation."""
    from deskpulse.metrics.engine import KpiQuery, compute_kpis, parse_filters

    settings = settings_of(ctx)
    config = settings.config()
    query = KpiQuery(
        metrics=resolve_metric_ids(metrics) if metrics else list(config.scorecard.metrics),
        period=period.value,
        by=[d.value for d in by or []],
        since=_date_option("--since", since),
        until=_date_option("--until", until),
        filters=parse_filters(filters or []),
    )
    with settings.tables() as store:
        result = compute_kpis(store, config, query)
    if output is Format.json:
        print(render.kpi_json(result))
    elif output is Format.csv:
        print(render.kpi_csv(result), end="")
    else:
        console.print(render.kpi_table(result))


@app.command()
def scorecard(
    ctx: typer.Context,
    at: Annotated[
        str | None, typer.Option(help="The period to show, e.g. 2026-03 or 2026-W09 (default: the latest).")
    ] = None,
    period: Annotated[
        Period | None, typer.Option(help="day, week, month, quarter or year (default: [scorecard] period).")
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """The headline KPIs of [scorecard] for one period: value, n, target status and change."""
    from deskpulse.metrics.scorecard import build_scorecard

    settings = settings_of(ctx)
    config = settings.config()
    with settings.tables() as store:
        card = build_scorecard(store, config, at=at, period=_compared_period(period, "a scorecard"))
    if output is Format.json:
        print(json.dumps(card.as_json(), indent=2, default=str))
        return
    _print_scorecard(card)


@app.command()
def progress(
    ctx: typer.Context,
    agent: Annotated[list[str] | None, typer.Option("--agent", help="An agent's address (repeatable).")] = None,
    at: Annotated[str | None, typer.Option(help="The period to show (default: the latest).")] = None,
    period: Annotated[
        Period | None, typer.Option(help="day, week, month, quarter or year (default: [scorecard] period).")
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Each agent's scorecard KPIs against their own previous period and the team median."""
    from deskpulse.metrics.progress import agent_progress

    settings = settings_of(ctx)
    config = settings.config()
    with settings.tables() as store:
        reports = agent_progress(
            store, config, period=_compared_period(period, "progress"), at=at, agents=agent or None
        )
    if output is Format.json:
        print(json.dumps([report.as_json() for report in reports], indent=2, default=str))
        return
    if not reports:
        console.print("No agent replies in the store yet.")
    for report in reports:
        console.print(render.progress_table(report))


@app.command()
def publish(ctx: typer.Context) -> None:
    """Copy the store's canonical tables to the engine named by --engine, replacing what was there."""
    from deskpulse.engines import connect_engine, publish
    from deskpulse.store import Store

    settings = settings_of(ctx)
    if settings.engine is None:
        raise typer.BadParameter("name the engine first: deskpulse --engine postgresql://… publish")
    with Store.open(settings.db, read_only=True) as store, connect_engine(settings.engine) as engine:
        counts = publish(store, engine)
    for name, rows in counts.items():
        console.print(f"{name}: {rows:,} rows")


# The table view shows these; --format json and csv give every column.
TICKET_COLUMNS = (
    "ticket_id",
    "created_at",
    "subject",
    "status",
    "first_reply_agent",
    "first_response_time",
    "first_response_time_business",
    "replies",
    "csat_score",
)


@app.command()
def tickets(
    ctx: typer.Context,
    sort: Annotated[str, typer.Option(help=f"One of: {', '.join(TICKET_SORTS)}.")] = "created_at",
    descending: Annotated[bool, typer.Option("--desc", help="Largest first.")] = False,
    limit: Annotated[int | None, typer.Option(help="At most this many tickets.")] = None,
    output: Annotated[Format, typer.Option("--format", help="table, json or csv (every column).")] = Format.table,
) -> None:
    """One row per ticket with its derived timestamps, counts and durations."""
    from deskpulse.metrics.facts import build_calendar, list_tickets

    settings = settings_of(ctx)
    config = settings.config()
    with settings.tables() as store:
        records = list_tickets(store, build_calendar(store, config), sort=sort, descending=descending, limit=limit)
    if output is Format.json:
        print(render.records_json(records))
    elif output is Format.csv:
        header = list(records[0]) if records else list(TICKET_COLUMNS)
        print(render.records_csv(header, records), end="")
    else:
        console.print(render.records_table(TICKET_COLUMNS, records, f"{len(records)} tickets"))


@app.command()
def demo(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same help desk.")] = 7,
    tickets: Annotated[int, typer.Option("--tickets", help="How many tickets to generate.")] = 600,
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo mailbox, config and store go.")] = Path(
        "deskpulse-demo"
    ),
) -> None:
    """Generate a realistic support mailbox, import it through the real pipeline and show the scorecard."""
    from deskpulse.demo import prepare_demo
    from deskpulse.demo_inputs import write_and_load_activity
    from deskpulse.ingest import ingest_paths
    from deskpulse.metrics.engine import KpiQuery, compute_kpis
    from deskpulse.metrics.scorecard import build_scorecard
    from deskpulse.store import Store

    settings = settings_of(ctx)
    demo_files = prepare_demo(directory, seed=seed, tickets=tickets, db=settings.db_option)
    console.print(
        f"Generated [bold]{demo_files.summary.messages:,}[/] messages in {demo_files.mbox} "
        f"({demo_files.summary.tickets:,} tickets, {demo_files.summary.malformed} deliberately malformed)."
    )
    config = load_config(demo_files.config)
    with Store.open(demo_files.db) as store:
        with _progress() as progress:
            task = progress.add_task("ingest", total=demo_files.summary.messages)
            summary = ingest_paths(store, config, [demo_files.mbox], progress=lambda n: progress.advance(task, n))
        _print_summary(summary)
        inputs = write_and_load_activity(demo_files.directory, store, config, seed)
        console.print(
            f"Loaded {inputs.entries_loaded:,} time entries and {inputs.surveys_loaded:,} survey rows; agents, "
            f"schedules, costs and SLA policy from {demo_files.directory}/."
        )
        volume_and_speed = resolve_metric_ids(None)
        query = KpiQuery(metrics=volume_and_speed, period="week")
        console.print(render.kpi_table(compute_kpis(store, config, query), "Volume and first response per week"))
        by_agent = KpiQuery(metrics=volume_and_speed, period="all", by=["agent"])
        console.print(render.kpi_table(compute_kpis(store, config, by_agent), "Per agent"))
        card = build_scorecard(store, config)
        if card.previous_period and any(line.value is None for line in card.lines):
            # The newest week's resolutions are not known yet (they need `inactivity_days` of quiet).
            card = build_scorecard(store, config, at=card.previous_period)
        _print_scorecard(card)
        _print_demo_insight(store, config, demo_files.summary.first_day)
    explore = f"deskpulse --config {demo_files.config} --db {demo_files.db}"
    console.print(f"Explore further: {explore} kpis --metrics all --period month")
    console.print(f"                 {explore} progress | scorecard | tickets --sort first_response_time --desc")
    console.print(f"In the browser:  {explore} user add you --role manager && {explore} serve")


def _print_demo_insight(store: Any, config: Config, first_day: date) -> None:
    """Categories by the demo's taxonomy, the flags sentiment raised and the rising issues, as a team would run
    them after an import (`categorize apply`, `sentiment score`, `flags`, `trends`)."""
    from deskpulse.insight.categories import apply_categories
    from deskpulse.insight.flags import list_flags
    from deskpulse.insight.sentiment_store import score_store
    from deskpulse.insight.taxonomy import load_taxonomy
    from deskpulse.insight.trends import TrendOptions, find_trends
    from deskpulse.metrics.engine import KpiQuery, compute_kpis

    taxonomy = load_taxonomy(config.files.categories)
    categorised = apply_categories(store, taxonomy, None, taxonomy.threshold)
    by_category = KpiQuery(
        metrics=["tickets_created", "first_response_time_business", "one_touch_rate"], period="all", by=["category"]
    )
    rules = categorised.by_method["rule"]
    title = f"Per category ({rules:,} of {categorised.tickets:,} tickets matched a rule of categories.toml)"
    console.print(render.kpi_table(compute_kpis(store, config, by_category), title))
    score_store(store, config, None)
    flags = list_flags(store)
    reasons = Counter(flag["kind"] for flag in flags)
    console.print(
        f"Flagged for a manager's review: {len(flags):,} tickets "
        f"({', '.join(f'{count} {kind}' for kind, count in reasons.most_common())}); the angriest:",
        highlight=False,
    )
    for flag in flags[:3]:
        console.print(f"  {flag['score']:+.2f}  {flag['subject']}  [dim]{flag['reason']}[/]", highlight=False)
    trends = find_trends(store, config, TrendOptions(since=first_day, find_topics=False))
    for finding in [*trends.spikes, *trends.rises]:
        when = f"{finding.first_day} … {finding.last_day}" if finding.kind == "spike" else finding.first_week
        console.print(
            f"Rising issue: {finding.kind} in [bold]{finding.series}[/] {when}: {finding.observed} tickets where "
            f"{finding.expected:.1f} were expected ({finding.ratio:.1f}×)",
            highlight=False,
        )


def _print_scorecard(card: Any) -> None:
    console.print(render.scorecard_table(card))
    for warning in [*card.warnings, *(g.message for g in card.guardrails)]:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,} messages"),
        MessagesPerSecond(),
        TimeElapsedColumn(),
        console=errors,
        transient=False,
    )


def _print_summary(summary: IngestSummary) -> None:
    console.print(
        f"Read [bold]{summary.read:,}[/] messages in {summary.seconds:.1f} s "
        f"({summary.messages_per_second:,.0f}/s): stored {summary.stored:,}, duplicates {summary.duplicates:,}, "
        f"quarantined {summary.quarantined:,}, stored with repairs {summary.repaired:,}. "
        f"Tickets: {summary.tickets:,}."
    )
    for position, reason, detail in summary.problems[:10]:
        console.print(f"  [yellow]{reason}[/] at {position}: {detail}", highlight=False)
    if len(summary.problems) > 10:
        console.print("  … more in the quarantine table (SELECT * FROM quarantine)")


def _compared_period(period: Period | None, command: str) -> str | None:
    """A --period for a command that compares one period with the one before; None means the config's."""
    if period is Period.all:
        raise typer.BadParameter(f"{command} compares periods; choose day, week, month, quarter or year")
    return None if period is None else period.value


def _date_option(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-03-01", param_hint=name) from exc


# Command groups kept in their own modules (deskpulse.commands): registered last, so they can use this module.
register_all(app)


def main() -> None:
    """Entry point: user errors become one clear line and exit code 2, not a traceback."""
    try:
        app()
    except UserError as exc:
        errors.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
