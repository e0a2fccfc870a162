"""Print how deskpulse's threading agrees with three outside ground truths, and how fast it runs.

    python benchmarks/threading_agreement.py [DATA_DIR] [--synthetic N]

DATA_DIR defaults to $DESKPULSE_DATA, else ../shared/data next to the repository. Each corpus is threaded two
ways: through the product's pipeline (`ingest_paths` into a temporary store, then `message_threads`) and by
the stdlib test loader (its own `ThreadInput`s straight into `thread_messages`). For each: the ground-truth
messages scored, parent-edge agreement, pairwise precision/recall/F1 of "same thread", and the share of
ground-truth threads reproduced exactly. `--synthetic N` also times `thread_messages` on N generated
messages. Figures only, no verdicts: tests/mail/test_threading_pipeline.py and test_threading_corpora.py hold
the asserted values and explain each disagreement and each difference between the two readers.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT / "src"), str(REPO_ROOT / "tests" / "mail")]

from corpus_loader import SUBJECT_WINDOW, CorpusMessage, read_mail_files, read_mbox, thread  # noqa: E402
from corpus_pipeline import ingest_corpus  # noqa: E402
from corpus_truth import (  # noqa: E402
    FEDORA_MAIL,
    MAILBOX_MAIL,
    NOTMUCH_MAIL,
    fedora_truth,
    mailbox_truth,
    notmuch_truth,
)

from deskpulse.config import Config  # noqa: E402
from deskpulse.mail.thread_eval import Agreement, cap_depth, compare, parent_agreement  # noqa: E402
from deskpulse.mail.threading import ThreadInput, thread_messages  # noqa: E402

# (corpus, who drew the truth, its mail under DATA_DIR, the stdlib reader of that mail, the ground truth)
CORPORA: list[tuple[str, str, Path, Callable[[Path], list[CorpusMessage]], Callable[[Path], dict[str, str | None]]]] = [
    ("fedora-devel-2010-01", "MHonArc", FEDORA_MAIL, read_mbox, lambda data: fedora_truth(data).parents),
    ("notmuch default", "notmuch-tree", NOTMUCH_MAIL, read_mail_files, notmuch_truth),
    ("mailbox-perl-imagemagick", "Mail::Box", MAILBOX_MAIL, read_mbox, mailbox_truth),
]
# MHonArc draws at most 3 levels below a root: fedora's parents are also compared with our tree cut there.
MHONARC_DEPTH = 3
_HEADER = (
    f"{'corpus':<26} {'truth':<13} {'reader':<9} {'messages':>8}  {'parents':>7}  "
    f"{'P':>6}  {'R':>6}  {'F1':>6}  {'exact threads':>13}"
)


def agreement_row(corpus: str, truth_by: str, reader: str, scored: Agreement, of: int) -> str:
    partition = scored.partition
    return (
        f"{corpus:<26} {truth_by:<13} {reader:<9} {f'{scored.messages}/{of}':>8}  {scored.parent_agreement:7.1%}  "
        f"{partition.precision:6.1%}  {partition.recall:6.1%}  {partition.f1:6.1%}  "
        f"{partition.exact_threads:6.1%} {f'({partition.truth_threads}:{partition.predicted_threads})':>6}"
    )


def agreement_table(data: Path) -> None:
    """Both readers' figures per corpus; under the table, fedora's parents at MHonArc's depth."""
    print(_HEADER)
    depth_notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="deskpulse-threading-") as scratch:
        for corpus, truth_by, mail, read, read_truth in CORPORA:
            truth = read_truth(data)
            pipeline = ingest_corpus(data / mail, Path(scratch) / f"{mail.parts[0]}.duckdb")
            assignments = thread(read(data / mail))
            loader_parents = {key: assignment.parent_key for key, assignment in assignments.items()}
            loader_threads = {key: assignment.thread_key for key, assignment in assignments.items()}
            readers: list[tuple[str, Mapping[str, str | None], Agreement]] = [
                ("pipeline", pipeline.parents, pipeline.score(truth)),
                ("stdlib", loader_parents, compare(truth, loader_parents, loader_threads)),
            ]
            for reader, parents, scored in readers:
                print(agreement_row(corpus, truth_by, reader, scored, len(truth)))
                if truth_by == "MHonArc":
                    capped = cap_depth(parents, MHONARC_DEPTH)
                    stored = {key: parent for key, parent in truth.items() if key in parents}
                    depth_notes.append(f"{reader} {parent_agreement(stored, capped):.1%}")
    print(
        "exact threads: share of truth threads reproduced (truth:ours threads). "
        f"fedora parents with our tree cut at MHonArc's depth {MHONARC_DEPTH}: {', '.join(depth_notes)}"
    )


def synthetic_speed(count: int) -> None:
    """Time threading on generated traffic: 60 % replies to a recent message, 10 % replies to one of a
    pool of missing messages, 30 % new mails; shuffled, so sorting is part of the work."""
    rng = random.Random(20260302)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    messages: list[ThreadInput] = []
    for index in range(count):
        draw = rng.random()
        if index and draw < 0.6:
            parent: str | None = f"m{rng.randrange(max(0, index - 5000), index)}@bench.test"
        elif draw < 0.7:
            parent = f"missing{rng.randrange(max(1, count // 10))}@bench.test"
        else:
            parent = None
        messages.append(
            ThreadInput(
                key=f"k{index}",
                message_id=f"m{index}@bench.test",
                in_reply_to=parent,
                references=(parent,) if parent else (),
                subject=f"Re: question {rng.randrange(max(1, count // 7))}",
                customer=f"customer{rng.randrange(max(1, count // 4))}@bench.test",
                sent_at=start + timedelta(seconds=30 * index),
            )
        )
    rng.shuffle(messages)
    began = time.perf_counter()
    assignments = thread_messages(messages, SUBJECT_WINDOW)
    elapsed = time.perf_counter() - began
    threads = len({assignment.thread_key for assignment in assignments.values()})
    rate = count / elapsed
    print(f"synthetic: {count:,} messages → {threads:,} threads in {elapsed:.2f} s ({rate:,.0f} msg/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    default = os.environ.get("DESKPULSE_DATA") or str(REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("data_dir", nargs="?", default=default, type=Path)
    parser.add_argument("--synthetic", type=int, default=0, metavar="N", help="time N generated messages")
    arguments = parser.parse_args()
    data: Path = arguments.data_dir
    if not data.is_dir():
        parser.error(f"data directory {data} not found; pass it or set DESKPULSE_DATA")
    print(
        f"pipeline: ingest_paths with Config() (subject window {Config().subject_window.days} days; list mail is "
        "automation, without a customer); "
        f"stdlib: subject window {SUBJECT_WINDOW.days} days, customer = sender address"
    )
    agreement_table(data)
    if arguments.synthetic:
        synthetic_speed(arguments.synthetic)


if __name__ == "__main__":
    main()
