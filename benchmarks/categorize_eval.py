"""Print how well `deskpulse categorize evaluate` classifies two real help desk datasets, per level.

    python benchmarks/categorize_eval.py [DATA_DIR] [--features tfidf|tfidf+minilm] [--tune] [--rows N]

DATA_DIR defaults to $DESKPULSE_DATA, else ../shared/data next to the repository. Each dataset runs through the
real command (`deskpulse categorize evaluate --csv … --format json`, stratified 5-fold cross-validation) and
its table is printed: accuracy and macro-F1 per level beside the majority-class and keyword baselines, and the
share of tickets the model is confident about at the default threshold.

- endava-helpdesk-tickets-subset: 5,431 real e-mail tickets, category → sub_category1 → sub_category2 (target:
  macro-F1 ≥ 0.60 at the top level).
- banking77: the 10,003 customer requests of the train split, 77 intents, one level (target: accuracy ≥ 0.92).

``--speed N`` also times `classify_tickets` (taxonomy rules, then the model) on N tickets made of banking77
requests, with the default model trained on the train split.

``--rows N`` evaluates only every k-th row, about N per dataset (tests run it on a small slice). ``--tune`` picks
the regularisation per fold by an inner cross-validation of the training folds. Figures only, no verdicts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# (name, file under DATA_DIR, text columns, level columns, target)
DATASETS = (
    (
        "endava-helpdesk-tickets-subset",
        "endava-helpdesk-tickets-subset/all_tickets.csv",
        "title,body",
        "category,sub_category1,sub_category2",
        "macro-F1 ≥ 0.60 at level 1",
    ),
    ("banking77", "banking77/train.csv", "text", "category", "accuracy ≥ 0.92 at level 1"),
)


def evaluate(path: Path, text: str, levels: str, features: str, tune: bool) -> dict[str, Any]:
    """Run the real command on one CSV file and return its JSON."""
    command = [
        *(sys.executable, "-m", "deskpulse", "--db", os.devnull, "categorize", "evaluate"),
        *("--csv", str(path), "--text", text, "--levels", levels, "--features", features, "--format", "json"),
        *(["--tune"] if tune else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def thinned(source: Path, rows: int, directory: Path) -> Path:
    """Every k-th row of ``source``, about ``rows`` of them, in a new file (a slice keeps every class's share)."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle))
    header, body = records[0], records[1:]
    step = max(1, len(body) // rows)
    target = directory / source.name
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *body[::step]])
    return target


def print_table(name: str, target: str, result: dict[str, Any]) -> None:
    tuned = " (regularisation tuned inside the training folds)" if result["tuned"] else ""
    print(f"\n{name}: {result['examples']:,} examples, {result['folds']}-fold CV, {result['features']}{tuned}")
    print(f"target: {target}")
    coverage = f"coverage@{result['threshold']:g}"
    print(
        f"{'level':>5} {'classes':>7} {'accuracy':>8} {'macro-F1':>8} {'majority acc/F1':>16} "
        f"{'keywords acc/F1':>16} {coverage:>13} {'acc there':>9}"
    )
    for level in result["levels"]:
        covered = "–" if level["covered_accuracy"] is None else f"{level['covered_accuracy']:.3f}"
        print(
            f"{level['level']:>5} {level['classes']:>7} {level['accuracy']:>8.3f} {level['macro_f1']:>8.3f} "
            f"{level['majority_accuracy']:>7.3f}/{level['majority_macro_f1']:<8.3f} "
            f"{level['keyword_accuracy']:>7.3f}/{level['keyword_macro_f1']:<8.3f} "
            f"{level['coverage']:>13.1%} {covered:>9}"
        )
    if result["rare_classes"]:
        print(f"top-level classes with fewer examples than folds: {', '.join(result['rare_classes'])}")
    print(f"{result['seconds']} s")


def time_classification(data: Path, tickets: int) -> None:
    """Seconds to categorise ``tickets`` tickets with rules and the default model, as `categorize apply` does."""
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from deskpulse.insight.categories import classify_tickets
    from deskpulse.insight.category_model import CategoryModel
    from deskpulse.insight.taxonomy import TicketText, parse_taxonomy

    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    started = time.perf_counter()
    # Two levels, as a help desk has them: the intent's first word (card, top, exchange…) over the intent.
    paths = [(row["category"].split("_")[0], row["category"]) for row in rows]
    model = CategoryModel.fit([row["text"] for row in rows], paths)
    trained = time.perf_counter() - started
    taxonomy = parse_taxonomy({"categories": {"Cards > Lost": {"keywords": ["stolen card", "lost my card"]}}})
    texts = {
        f"T-{n}": TicketText(f"Request {n}", rows[n % len(rows)]["text"], "example.org", "help@acme.test")
        for n in range(tickets)
    }
    started = time.perf_counter()
    results = classify_tickets(texts, {}, {}, taxonomy, model, 0.5)
    seconds = time.perf_counter() - started
    ruled = sum(result.method == "rule" for result in results)
    print(
        f"\ntrained on {len(rows):,} requests in {trained:.1f} s; categorised {tickets:,} tickets in {seconds:.1f} s "
        f"({tickets / seconds:,.0f}/s; {ruled:,} by rule, the rest by the model)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("DESKPULSE_DATA") or str(REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("data", nargs="?", type=Path, default=Path(default))
    parser.add_argument("--features", default="tfidf", choices=("tfidf", "tfidf+minilm"))
    parser.add_argument("--tune", action="store_true")
    parser.add_argument("--rows", type=int, default=None, help="evaluate a slice of about this many rows")
    parser.add_argument("--only", default=None, help="one dataset by name")
    parser.add_argument("--speed", type=int, default=None, help="time categorising this many tickets")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for name, relative, text, levels, target in DATASETS:
            if arguments.only and arguments.only != name:
                continue
            path = arguments.data / relative
            if not path.is_file():
                print(f"\n{name}: {path} not found, skipped")
                continue
            if arguments.rows:
                path = thinned(path, arguments.rows, Path(scratch))
            print_table(name, target, evaluate(path, text, levels, arguments.features, arguments.tune))
    if arguments.speed:
        time_classification(arguments.data, arguments.speed)


if __name__ == "__main__":
    main()
