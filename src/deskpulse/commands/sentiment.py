"""`deskpulse sentiment score|train|evaluate` and `deskpulse flags`: customer sentiment and the review queue
(docs/sentiment.md)."""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer


class Output(StrEnum):
    text = "text"
    json = "json"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def register(app: typer.Typer) -> None:
    sentiment_app = typer.Typer(
        help="Customer sentiment: score the customer messages, train a model on your own labels, evaluate.",
        no_args_is_help=True,
    )
    app.add_typer(sentiment_app, name="sentiment")

    @sentiment_app.command("score")
    def score_command(
        ctx: typer.Context,
        rescore: Annotated[
            bool, typer.Option("--rescore", help="Score every customer message again, not only the new ones.")
        ] = False,
        output: Annotated[Output, typer.Option("--format", help="text (a summary line) or json.")] = Output.text,
    ) -> None:
        """Score the customer messages not scored yet and refresh the sentiment flags of the review queue.

        Uses the model `deskpulse sentiment train` saved beside the store when there is one (and [sentiment]
        use_model is on), else the built-in rules; a message scored by another method is scored again."""
        from deskpulse.cli import console, settings_of
        from deskpulse.insight.sentiment_store import current_model, score_store
        from deskpulse.store import Store

        settings = settings_of(ctx)
        config = settings.config()
        model = current_model(settings.db, config.sentiment)
        with Store.open(settings.db) as store:
            summary = score_store(store, config, model, rescore=rescore)
        if output is Output.json:
            print(json.dumps(summary.as_json(), indent=2))
            return
        flags = summary.flags
        console.print(
            f"Run {summary.run_id or '–'}: scored {summary.scored:,} of {summary.customer_messages:,} customer "
            f"messages with {summary.method}. "
            f"Flags: {flags.raised} raised, {flags.refreshed} still open, {flags.withdrawn} withdrawn; "
            f"{flags.open} open (`deskpulse flags`).",
            highlight=False,
        )

    @sentiment_app.command("compare")
    def compare_command(
        ctx: typer.Context,
        runs: Annotated[
            list[int] | None, typer.Argument(help="Two run numbers, older first (default: the last two runs).")
        ] = None,
        top: Annotated[int, typer.Option(help="Show this many of the most frequent changes.")] = 10,
        output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    ) -> None:
        """How two `sentiment score` runs differ on the messages both scored: how many changed label, and how.

        Every `score` run keeps its scores under a run number (sentiment_runs). A run scores only the messages
        its method has not scored yet, so compare a run of a new model (or `score --rescore`) with the last."""
        from deskpulse.commands.runs import show_run_comparison

        show_run_comparison(ctx, "sentiment_runs", "label", runs, top, output is Output.json)

    @sentiment_app.command("train")
    def train_command(
        ctx: typer.Context,
        csv_file: Annotated[
            Path | None,
            typer.Option("--csv", help="Labelled text: columns label and text, or label and message_id."),
        ] = None,
        surveys: Annotated[
            bool,
            typer.Option(
                "--surveys/--no-surveys", help="Also learn from CSAT comments (low score negative, high positive)."
            ),
        ] = True,
        output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
    ) -> None:
        """Train a sentiment model on your team's labelled text and CSAT comments; save it beside the store.

        Labels are negative, neutral or positive. From then on `deskpulse sentiment score` uses the model (run
        it to score the stored messages with it); delete the model file to go back to the rules."""
        from deskpulse.cli import console, settings_of
        from deskpulse.insight.sentiment_data import TrainingSet, add_csat_comments, read_training_csv
        from deskpulse.insight.sentiment_model import model_path, save, train
        from deskpulse.store import Store

        settings = settings_of(ctx)
        if csv_file is None and not surveys:
            raise typer.BadParameter("nothing to learn from: give --csv FILE, or leave the CSAT comments on")
        examples = TrainingSet()
        store = Store.open(settings.db) if settings.db.exists() or csv_file is None else None
        try:
            if csv_file is not None:
                read_training_csv(csv_file, store, examples)
            if surveys and store is not None:
                add_csat_comments(store, examples)
        finally:
            if store is not None:
                store.close()
        path = model_path(settings.db)
        model = save(train(examples.texts, examples.labels, dict(examples.sources)), path)
        if output is Output.json:
            report = {"model": str(path), "id": model.model_id, "examples": model.examples, "sources": model.sources}
            print(json.dumps(report, indent=2))
            return
        per_label = ", ".join(f"{n:,} {label}" for label, n in model.examples.items())
        per_source = ", ".join(f"{n:,} from {source}" for source, n in model.sources.items())
        console.print(f"Trained {model.model_id} on {per_label} ({per_source}); saved to {path}.", highlight=False)
        console.print("Run `deskpulse sentiment score` to score the stored messages with it.")

    @sentiment_app.command("evaluate")
    def evaluate_command(
        ctx: typer.Context,
        csv_file: Annotated[Path, typer.Option("--csv", help="A labelled CSV file (any other columns are ignored).")],
        text: Annotated[str, typer.Option("--text", help="The column holding the text.")],
        label: Annotated[str, typer.Option("--label", help="The column holding the label.")],
        negative: Annotated[str, typer.Option("--negative", help="The label value that means negative.")],
        folds: Annotated[int, typer.Option(min=2, max=20, help="Cross-validation folds for the trained model.")] = 5,
        output: Annotated[Output, typer.Option("--format", help="text (a table) or json.")] = Output.text,
    ) -> None:
        """Precision, recall and F1 of the negative class on a labelled CSV.

        For the built-in rules (untrained), for the model `sentiment train` would build (stratified k-fold
        cross-validation), and for calling everything negative: the floor any method must beat."""
        from deskpulse.cli import console, settings_of
        from deskpulse.insight.sentiment_model import evaluate_file

        settings = settings_of(ctx)
        config = settings.config()
        report = evaluate_file(csv_file, text, label, negative, folds=folds, settings=config.sentiment)
        if output is Output.json:
            print(json.dumps(report, indent=2))
        else:
            console.print(_evaluation_table(report))

    @app.command("flags")
    def flags_command(
        ctx: typer.Context,
        review: Annotated[
            str | None, typer.Option("--review", metavar="TICKET", help="Mark the open flags of this ticket reviewed.")
        ] = None,
        by: Annotated[str | None, typer.Option("--by", help="Who reviewed (default: your login name).")] = None,
        everything: Annotated[bool, typer.Option("--all", help="Also list reviewed flags.")] = False,
        output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
    ) -> None:
        """The review queue: flagged tickets, angriest first, with the reason for each flag.

        `deskpulse sentiment score` raises the sentiment flags; --review TICKET marks a ticket's flags reviewed,
        and a reviewed flag stays reviewed."""
        from deskpulse import render
        from deskpulse.cli import console, settings_of
        from deskpulse.insight.flags import FLAG_COLUMNS, list_flags
        from deskpulse.insight.flags import review as review_flags
        from deskpulse.store import Store, StoreError

        settings = settings_of(ctx)
        if not settings.db.exists():
            raise StoreError(f"no store at {settings.db}: run `deskpulse ingest` first, or pass --db")
        with Store.open(settings.db) as store:
            if review is not None:
                reviewer = by or getpass.getuser()
                count = review_flags(store, review, reviewer)
                console.print(f"{review}: {count} flag{'s' * (count != 1)} marked reviewed by {reviewer}.")
                return
            records = list_flags(store, include_reviewed=everything)
        if output is Format.json:
            print(render.records_json(records))
        elif output is Format.csv:
            print(render.records_csv(FLAG_COLUMNS, records), end="")
        else:
            shown: tuple[str, ...] = ("ticket_id", "score", "reason", "raised_at", "subject", "requester")
            if everything:
                shown = ("ticket_id", "state", "score", "reason", "raised_at", "reviewed_by", "subject")
            title = f"{len(records)} {'flags' if everything else 'open flags'}"
            console.print(_flags_table(shown, records, title))


def _evaluation_table(report: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(
        title=f"{report['data']}: {report['examples']:,} texts, {report['negatives']:,} negative",
        header_style="bold",
    )
    for column in ("method", "precision", "recall", "F1", "TP", "FP", "FN"):
        table.add_column(column, justify="left" if column == "method" else "right")
    names = {
        "rules": "built-in rules (untrained)",
        "model": f"trained model ({report['folds']}-fold cross-validation)",
        "always_negative": "everything negative (floor)",
    }
    for key, name in names.items():
        scores = report[key]
        table.add_row(
            name,
            f"{scores['precision']:.3f}",
            f"{scores['recall']:.3f}",
            f"{scores['f1']:.3f}",
            f"{scores['true_positives']:,}",
            f"{scores['false_positives']:,}",
            f"{scores['false_negatives']:,}",
        )
    return table


def _flags_table(columns: tuple[str, ...], records: list[dict[str, Any]], title: str) -> Any:
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for column in columns:
        if column in ("reason", "subject"):
            table.add_column(column.replace("_", " "), overflow="fold", max_width=60 if column == "reason" else 28)
        else:
            table.add_column(column.replace("_", " "), no_wrap=True, justify="right" if column == "score" else "left")
    for record in records:
        cells = []
        for column in columns:
            value = record.get(column)
            if value is None:
                cells.append("–")
            elif column == "score":
                cells.append(f"{value:+.2f}")
            elif isinstance(value, datetime):
                cells.append(value.strftime("%Y-%m-%d %H:%M"))  # UTC, as stored
            else:
                cells.append(str(value))
        table.add_row(*cells)
    return table
