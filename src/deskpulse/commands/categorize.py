"""`deskpulse categorize train|apply|evaluate|review`: hierarchical ticket categories from taxonomy rules and a
model learnt from the tickets that already carry one (docs/categories.md)."""

from __future__ import annotations

import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from deskpulse.insight.category_eval import Evaluation


class Output(StrEnum):
    text = "text"
    json = "json"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


REVIEW_COLUMNS = ("ticket_id", "created_at", "subject", "category", "suggestion", "confidence")


def register(app: typer.Typer) -> None:
    categorize_app = typer.Typer(
        help="Ticket categories: train a model, apply rules and model to every ticket, evaluate, review, compare runs.",
        no_args_is_help=True,
    )
    app.add_typer(categorize_app, name="categorize")
    categorize_app.command("train")(train)
    categorize_app.command("apply")(apply)
    categorize_app.command("evaluate")(evaluate)
    categorize_app.command("review")(review)
    categorize_app.command("compare")(compare)


def train(
    ctx: typer.Context,
    labels: Annotated[
        list[Path] | None,
        typer.Option("--labels", help="A CSV of manual labels (ticket_id or message_id, category) to store first."),
    ] = None,
    output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
) -> None:
    """Train the category model on every ticket with a known category: the help desk's own, then manual labels.

    The model is saved beside the store as <store>.categories.joblib; `categorize apply` uses it."""
    from deskpulse.cli import console, settings_of
    from deskpulse.insight.categories import load_labels, training_set
    from deskpulse.insight.category_model import CategoryModel, model_path
    from deskpulse.insight.taxonomy import load_taxonomy
    from deskpulse.store import Store

    settings = settings_of(ctx)
    taxonomy = load_taxonomy(settings.config().files.categories)
    with Store.open(settings.db) as store:
        for path in labels or []:
            added = load_labels(store, path, taxonomy)
            if output is Output.text:
                console.print(f"{path}: {added:,} labels stored")
        data = training_set(store)
    model = CategoryModel.fit(data.texts, data.paths, taxonomy.features)
    destination = model_path(settings.db)
    model.save(destination)
    per_top = Counter(category[0] for category in data.paths)
    if output is Output.json:
        document = {
            "model": model.model_id,
            "path": str(destination),
            "tickets": len(data.texts),
            "origins": dict(data.origins),
            "levels": [len(level.classes) for level in model.levels],
            "per_category": dict(per_top.most_common()),
        }
        print(json.dumps(document, indent=2))
        return
    origins = ", ".join(f"{count:,} {origin}" for origin, count in sorted(data.origins.items()))
    levels = " → ".join(str(len(level.classes)) for level in model.levels)
    console.print(
        f"Trained {model.model_id} on {len(data.texts):,} tickets ({origins}); classes per level: {levels}. "
        f"Saved to {destination}."
    )


def apply(
    ctx: typer.Context,
    threshold: Annotated[
        float | None,
        typer.Option(help="Confidence below which the model's answer is not used (default: the taxonomy's, 0.5)."),
    ] = None,
    output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
) -> None:
    """Categorise every ticket: the help desk's category, a manual label, the first matching rule, else the model.

    Stores the result in ticket_categories and tickets.category (so `kpis --by category` shows it). A ticket the
    model is unsure of is Unclassified (or keeps only its top level) and is queued for `categorize review`."""
    from deskpulse.cli import console, settings_of
    from deskpulse.insight.categories import apply_categories
    from deskpulse.insight.category_model import CategoryModel, model_path
    from deskpulse.insight.taxonomy import load_taxonomy
    from deskpulse.store import Store

    settings = settings_of(ctx)
    taxonomy = load_taxonomy(settings.config().files.categories)
    if threshold is not None and not 0 <= threshold <= 1:
        raise typer.BadParameter("a confidence between 0 and 1", param_hint="--threshold")
    cutoff = taxonomy.threshold if threshold is None else threshold
    path = model_path(settings.db)
    model = CategoryModel.load(path) if path.exists() else None
    with Store.open(settings.db) as store:
        summary = apply_categories(store, taxonomy, model, cutoff)
    if output is Output.json:
        document = {
            "run_id": summary.run_id,
            "tickets": summary.tickets,
            "model": None if model is None else model.model_id,
            "threshold": cutoff,
            "by_method": dict(summary.by_method),
            "by_category": dict(summary.by_category.most_common()),
            "needs_review": summary.needs_review,
        }
        print(json.dumps(document, indent=2))
        return
    methods = ", ".join(f"{count:,} by {method}" for method, count in summary.by_method.most_common())
    console.print(f"Run {summary.run_id}: categorised {summary.tickets:,} tickets: {methods}.")
    if model is None:
        console.print(f"No model at {path}: only rules were used (`deskpulse categorize train` makes one).")
    for category, count in summary.by_category.most_common(15):
        console.print(f"  {count:>7,}  {category}", highlight=False)
    if summary.needs_review:
        console.print(f"{summary.needs_review:,} tickets queued for review: deskpulse categorize review")


def evaluate(
    ctx: typer.Context,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", "--data", help="Evaluate on this CSV file instead of the store's labelled tickets."),
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="With --csv: the text column(s), comma-separated, e.g. title,body.")
    ] = None,
    levels: Annotated[
        str | None,
        typer.Option(
            "--levels", "--label", help="With --csv: the category column of each level, top first, e.g. cat,sub."
        ),
    ] = None,
    test_file: Annotated[
        Path | None, typer.Option("--test", help="With --csv: train on --csv and score on this file (same columns).")
    ] = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds (stratified on the top level).")] = 5,
    tune: Annotated[
        bool, typer.Option("--tune", help="Choose the regularisation per fold by an inner CV of the training folds.")
    ] = False,
    features: Annotated[
        str | None, typer.Option(help="tfidf or tfidf+minilm (default: the taxonomy's, tfidf).")
    ] = None,
    output: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
) -> None:
    """Cross-validated accuracy and macro-F1 per level, next to a majority-class and a keyword baseline.

    Without --csv it evaluates on the store's tickets with a known category (help desk or manual label)."""
    from deskpulse.cli import console, settings_of
    from deskpulse.insight.category_eval import cross_validate, read_labelled_csv, train_and_test
    from deskpulse.insight.taxonomy import FEATURES, load_taxonomy

    settings = settings_of(ctx)
    taxonomy = load_taxonomy(settings.config().files.categories)
    chosen = features or taxonomy.features
    if chosen not in FEATURES:
        raise typer.BadParameter(f"one of {', '.join(FEATURES)}", param_hint="--features")
    if folds < 2:
        raise typer.BadParameter("at least 2", param_hint="--folds")
    if csv_file is None:
        if text or levels or test_file:
            raise typer.BadParameter("--text, --levels and --test go with --csv FILE")
        from deskpulse.insight.categories import training_set
        from deskpulse.store import Store

        with Store.open(settings.db, read_only=True) as store:
            data = training_set(store)
        texts, paths = data.texts, data.paths
    else:
        if not text or not levels:
            raise typer.BadParameter("--csv needs --text COLUMN[,COLUMN] and --levels COLUMN[,COLUMN]")
        texts, paths = read_labelled_csv(csv_file, _columns(text), _columns(levels))
    if len({path[0] for path in paths}) < 2:
        raise typer.BadParameter("the evaluation needs examples of at least two categories")
    if test_file is not None:
        test = read_labelled_csv(test_file, _columns(text or ""), _columns(levels or ""))
        result = train_and_test((texts, paths), test, features=chosen, threshold=taxonomy.threshold, tune=tune)
    else:
        result = cross_validate(texts, paths, folds=folds, features=chosen, threshold=taxonomy.threshold, tune=tune)
    if output is Format.json:
        print(json.dumps(result.as_json(), indent=2))
    elif output is Format.csv:
        raise typer.BadParameter("table or json", param_hint="--format")
    else:
        console.print(evaluation_table(result))


def review(
    ctx: typer.Context,
    limit: Annotated[int | None, typer.Option(help="At most this many tickets.")] = 50,
    output: Annotated[Format, typer.Option("--format", help="table, json or csv.")] = Format.table,
) -> None:
    """Tickets the model was unsure of, least confident first, with its suggestion.

    `--format csv > labels.csv`, fill in the category column, then `categorize train --labels labels.csv` and
    `categorize apply`: the corrections feed the next model."""
    from deskpulse import render
    from deskpulse.cli import console, settings_of
    from deskpulse.insight.categories import review_queue
    from deskpulse.store import Store

    settings = settings_of(ctx)
    with Store.open(settings.db, read_only=True) as store:
        queue = review_queue(store, limit)
    if output is Format.json:
        print(render.records_json(queue))
    elif output is Format.csv:
        # The shape `train --labels` reads: ticket_id and category (left empty), the suggestion beside it to help.
        rows = [{"ticket_id": r["ticket_id"], "category": "", "suggestion": r["suggestion"]} for r in queue]
        print(render.records_csv(["ticket_id", "category", "suggestion"], rows), end="")
    else:
        console.print(render.records_table(REVIEW_COLUMNS, queue, f"{len(queue)} tickets to review"))


def compare(
    ctx: typer.Context,
    runs: Annotated[
        list[int] | None, typer.Argument(help="Two run numbers, older first (default: the last two runs).")
    ] = None,
    top: Annotated[int, typer.Option(help="Show this many of the most frequent changes.")] = 10,
    output: Annotated[Output, typer.Option("--format", help="text or json.")] = Output.text,
) -> None:
    """How two `categorize apply` runs differ: how many tickets changed category, and the top changes.

    Every `apply` keeps its answers under a run number (category_runs), so a run with a better model can be set
    beside the last one before anyone relies on it."""
    from deskpulse.commands.runs import show_run_comparison

    show_run_comparison(ctx, "category_runs", "category", runs, top, output is Output.json)


def evaluation_table(result: Evaluation) -> Any:
    """Per level: the model's accuracy and macro-F1 beside the two baselines, and its coverage at the threshold."""
    from rich.table import Table

    how = f"{result.folds}-fold cross-validation" if result.folds else "trained on --csv, scored on --test"
    table = Table(title=f"Categories: {how}, {result.examples:,} examples, {result.features}", header_style="bold")
    for column in ("level", "examples", "classes", "accuracy", "macro-F1", "majority\nacc / F1", "keywords\nacc / F1"):
        table.add_column(column, justify="right")
    table.add_column(f"coverage at {result.threshold:g}\n(accuracy there)", justify="right")
    for level in result.levels:
        covered = "–" if level.covered_accuracy is None else f"{level.covered_accuracy:.3f}"
        table.add_row(
            str(level.level),
            f"{level.examples:,}",
            str(level.classes),
            f"{level.accuracy:.3f}",
            f"{level.macro_f1:.3f}",
            f"{level.majority_accuracy:.3f} / {level.majority_macro_f1:.3f}",
            f"{level.keyword_accuracy:.3f} / {level.keyword_macro_f1:.3f}",
            f"{level.coverage:.1%} ({covered})",
        )
    if result.rare_classes:
        table.caption = (
            f"{len(result.rare_classes)} top-level classes have fewer examples than folds "
            f"({', '.join(result.rare_classes[:5])}): they cannot be learnt in every fold and pull macro-F1 down."
        )
    return table


def _columns(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]
