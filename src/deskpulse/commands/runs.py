"""What `categorize compare` and `sentiment compare` share: two runs of a history table set side by side."""

from __future__ import annotations

import json

import typer


def show_run_comparison(
    ctx: typer.Context, table: str, what: str, runs: list[int] | None, top: int, as_json: bool
) -> None:
    """Compare two runs of ``table`` (`category_runs`, `sentiment_runs`) on ``what`` they gave (a category, a
    label); ``runs`` names them, older first, or None for the last two. Prints JSON or a few lines."""
    from deskpulse.cli import console, settings_of
    from deskpulse.insight.runs import compare_runs, comparison_lines
    from deskpulse.store import Store

    if runs is not None and len(runs) != 2:
        raise typer.BadParameter("two run numbers (RUN_A RUN_B), or none for the last two", param_hint="RUNS")
    before, after = (None, None) if runs is None else (runs[0], runs[1])
    with Store.open(settings_of(ctx).db, read_only=True) as store:
        comparison = compare_runs(store, table, before, after, top=top)
    if as_json:
        print(json.dumps(comparison.as_json(), indent=2))
        return
    for line in comparison_lines(comparison, what):
        console.print(line, highlight=False)
