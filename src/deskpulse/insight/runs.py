"""Versioned insight runs: every `categorize apply` and `sentiment score` keeps its answers per ticket (or
message) under a run number, so that a run with a better model can be compared with the one before.

The current-state tables (`ticket_categories`, `message_sentiment`) stay what other code reads; the history
tables (`category_runs`, `sentiment_runs`) only grow. Both have the same shape for comparing: a run number, a key
(ticket or message), the answer (category or label) and what produced it (model or method).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deskpulse.errors import UserError
from deskpulse.store import Store

# Per history table: the key column and the answer column compared between runs, and the column naming the
# model or method.
HISTORY = {
    "category_runs": ("ticket_id", "category", "model"),
    "sentiment_runs": ("message_key", "label", "method"),
}


class RunError(UserError):
    """A run to compare that does not exist, or too few runs to compare."""


@dataclass(frozen=True)
class RunInfo:
    run_id: int
    at: Any  # datetime of the run
    rows: int
    producer: str | None  # the model or method (the most frequent one in the run)


@dataclass
class RunComparison:
    """How the answers of run `before` and run `after` differ on the keys both runs answered."""

    before: RunInfo
    after: RunInfo
    common: int  # keys answered by both runs
    changed: int  # of those, how many got another answer
    only_before: int
    only_after: int
    changes: list[tuple[str, str, int]] = field(default_factory=list)  # (before, after, count), most frequent first
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # a few keys behind each change

    def as_json(self) -> dict[str, Any]:
        def run(info: RunInfo) -> dict[str, Any]:
            at = info.at.isoformat() if info.at is not None else None
            return {"run_id": info.run_id, "at": at, "rows": info.rows, "model": info.producer}

        return {
            "before": run(self.before),
            "after": run(self.after),
            "common": self.common,
            "changed": self.changed,
            "changed_share": round(self.changed / self.common, 4) if self.common else 0.0,
            "only_before": self.only_before,
            "only_after": self.only_after,
            "changes": [
                {"before": b, "after": a, "count": n, "examples": self.examples.get((b, a), [])}
                for b, a, n in self.changes
            ],
        }


def next_run_id(store: Store, table: str) -> int:
    """One more than the newest run of ``table`` (1 for the first): run numbers sort like the runs."""
    [(newest,)] = store.execute(f"SELECT max(run_id) FROM {_checked(table)}")
    return 1 if newest is None else int(newest) + 1


def list_runs(store: Store, table: str) -> list[RunInfo]:
    """Every run of ``table``, oldest first."""
    _, _, producer = HISTORY[_checked(table)]
    time_column = "classified_at" if table == "category_runs" else "scored_at"
    rows = store.execute(
        f"SELECT run_id, min({time_column}), count(*), mode({producer}) FROM {table} GROUP BY run_id ORDER BY run_id"
    )
    return [RunInfo(int(run_id), at, int(count), name) for run_id, at, count, name in rows]


def compare_runs(
    store: Store, table: str, before: int | None = None, after: int | None = None, *, top: int = 10, examples: int = 3
) -> RunComparison:
    """Compare two runs of ``table`` (default: the last two): how many keys changed answer, and the most
    frequent changes (``before → after``) with a few keys behind each."""
    key, answer, _ = HISTORY[_checked(table)]
    runs = {run.run_id: run for run in list_runs(store, table)}
    command = "categorize apply" if table == "category_runs" else "sentiment score"
    if before is None and after is None:
        if len(runs) < 2:
            raise RunError(f"{len(runs)} run(s) stored; comparing needs two: run `deskpulse {command}` again")
        before, after = sorted(runs)[-2:]
    elif before is None or after is None:
        raise RunError("give two runs to compare (RUN_A RUN_B), or none for the last two")
    for run_id in (before, after):
        if run_id not in runs:
            known = ", ".join(str(r) for r in sorted(runs)) or "none yet"
            raise RunError(f"no run {run_id} in {table} (runs: {known})")
    [(common, changed, only_before, only_after)] = store.execute(
        f"""
        SELECT count(*) FILTER (WHERE a.{key} IS NOT NULL AND b.{key} IS NOT NULL),
               count(*) FILTER (WHERE a.{key} IS NOT NULL AND b.{key} IS NOT NULL
                                AND a.{answer} IS DISTINCT FROM b.{answer}),
               count(*) FILTER (WHERE b.{key} IS NULL),
               count(*) FILTER (WHERE a.{key} IS NULL)
        FROM (SELECT {key}, {answer} FROM {table} WHERE run_id = ?) a
        FULL JOIN (SELECT {key}, {answer} FROM {table} WHERE run_id = ?) b USING ({key})
        """,
        [before, after],
    )
    rows = store.execute(
        f"""
        SELECT a.{answer}, b.{answer}, count(*) AS n, list(a.{key} ORDER BY a.{key})[1:{int(examples)}]
        FROM {table} a JOIN {table} b ON a.{key} = b.{key}
        WHERE a.run_id = ? AND b.run_id = ? AND a.{answer} IS DISTINCT FROM b.{answer}
        GROUP BY ALL ORDER BY n DESC, 1, 2 LIMIT {int(top)}
        """,
        [before, after],
    )
    comparison = RunComparison(runs[before], runs[after], int(common), int(changed), int(only_before), int(only_after))
    for was, now, count, keys in rows:
        comparison.changes.append((str(was), str(now), int(count)))
        comparison.examples[(str(was), str(now))] = list(keys)
    return comparison


def _checked(table: str) -> str:
    if table not in HISTORY:
        raise ValueError(f"not a run history table: {table}")
    return table


def comparison_lines(comparison: RunComparison, answer: str) -> list[str]:
    """The comparison in words, for the terminal: the two runs, how many changed, the top changes."""
    lines = []
    for name, info in (("before", comparison.before), ("after", comparison.after)):
        at = info.at.isoformat(sep=" ") if info.at is not None else "?"
        lines.append(f"{name}: run {info.run_id} at {at}, {info.rows:,} rows, {info.producer or 'no model'}")
    share = comparison.changed / comparison.common if comparison.common else 0.0
    lines.append(
        f"{comparison.changed:,} of {comparison.common:,} in both runs changed {answer} ({share:.1%}); "
        f"{comparison.only_before:,} only in run {comparison.before.run_id}, "
        f"{comparison.only_after:,} only in run {comparison.after.run_id}"
    )
    if comparison.changes:
        lines.append(f"top changes ({answer} before → after):")
    for was, now, count in comparison.changes:
        keys = ", ".join(comparison.examples.get((was, now), []))
        lines.append(f"  {count:>7,}  {was} → {now}   e.g. {keys}")
    return lines
