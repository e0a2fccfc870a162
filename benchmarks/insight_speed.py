"""Time `deskpulse categorize apply` and `deskpulse sentiment score` on a store of N generated tickets.

    python benchmarks/insight_speed.py [--tickets 100000] [--dir DIR] [--data DATA_DIR]

The store is the demo help desk (`deskpulse demo`'s generator, imported with the real `deskpulse ingest`) of
--tickets tickets, kept in --dir (default: a new temporary folder) and reused when it is already there, since
generating and importing 100,000 tickets takes minutes and is not what is measured. The category model is the
default one (`CategoryModel.fit`, TF-IDF and a linear model per level) trained on banking77's 10,003 requests in
two levels (the intent's first word over the intent), saved beside the store where `categorize apply` finds it.

Each command then runs as a user runs it, in its own process (start-up included), once: `categorize apply`
over every ticket, `sentiment score --rescore` over every customer message, with the built-in rules. It prints
each time and their sum (issue 5 item 8: under 60 s for 100,000 tickets on the 2-core machine).
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


def deskpulse(db: Path, config: Path, *args: str) -> tuple[dict[str, Any], float]:
    """Run one deskpulse command in a new process; its JSON output and the seconds it took."""
    command = [sys.executable, "-m", "deskpulse", "--db", str(db), "--config", str(config), *args, "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result, seconds


def prepared_store(directory: Path, tickets: int) -> tuple[Path, Path]:
    """The demo store of ``tickets`` tickets in ``directory``: made (generated and imported) unless it is there."""
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from deskpulse.demo import prepare_demo

    db, config = directory / "deskpulse.duckdb", directory / "deskpulse.toml"
    marker = directory / f"imported-{tickets}"
    if marker.exists():
        print(f"reusing the store of {tickets:,} tickets in {directory}")
        return db, config
    started = time.perf_counter()
    files = prepare_demo(directory, tickets=tickets)
    result, _ = deskpulse(files.db, files.config, "ingest", str(files.mbox))
    marker.touch()
    print(
        f"generated and imported {result['tickets']:,} tickets ({result['messages_stored']:,} messages) in "
        f"{time.perf_counter() - started:.0f} s (not part of the figure)"
    )
    return files.db, files.config


def train_default_model(data: Path, db: Path) -> str:
    """Train the default category model on banking77 and save it where `categorize apply` looks; its id."""
    from deskpulse.insight.category_model import CategoryModel, model_path

    with (data / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    started = time.perf_counter()
    paths = [(row["category"].split("_")[0], row["category"]) for row in rows]
    model = CategoryModel.fit([row["text"] for row in rows], paths)
    model.save(model_path(db))
    print(f"trained {model.model_id} on {len(rows):,} banking77 requests in {time.perf_counter() - started:.1f} s")
    return model.model_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = os.environ.get("DESKPULSE_DATA") or str(REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("--data", type=Path, default=Path(default))
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None, help="keep (and reuse) the generated store here")
    arguments = parser.parse_args()
    if not (arguments.data / "banking77" / "train.csv").is_file():
        raise SystemExit(f"{arguments.data}/banking77/train.csv not found: the model is trained on it")
    with tempfile.TemporaryDirectory() as scratch:
        directory = arguments.dir or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        db, config = prepared_store(directory, arguments.tickets)
        train_default_model(arguments.data, db)
        categorised, category_seconds = deskpulse(db, config, "categorize", "apply")
        print(
            f"categorize apply: {categorised['tickets']:,} tickets in {category_seconds:.1f} s "
            f"({categorised['tickets'] / category_seconds:,.0f}/s; run {categorised['run_id']})"
        )
        scored, sentiment_seconds = deskpulse(db, config, "sentiment", "score", "--rescore")
        print(
            f"sentiment score --rescore: {scored['scored']:,} customer messages in {sentiment_seconds:.1f} s "
            f"({scored['scored'] / sentiment_seconds:,.0f}/s; run {scored['run_id']}, {scored['method']})"
        )
        print(
            f"total: {category_seconds + sentiment_seconds:.1f} s for {categorised['tickets']:,} tickets "
            "(each command in its own process, start-up included)"
        )


if __name__ == "__main__":
    main()
