"""Print how deskpulse's threading agrees with three outside ground truths, and how fast it runs.

    python benchmarks/threading_agreement.py [DATA_DIR] [--synthetic N]

DATA_DIR defaults to $DESKPULSE_DATA, else ../shared/data next to the repository. For each corpus: parent-edge
agreement, pairwise precision/recall/F1 of "same thread", and the share of ground-truth threads reproduced
exactly. `--synthetic N` also times `thread_messages` on N generated messages. Figures only, no verdicts:
tests/mail/test_threading_corpora.py holds the asserted values and explains each disagreement.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT / "src"), str(REPO_ROOT / "tests" / "mail")]

from corpus_loader import (  # noqa: E402
    FEDORA,
    MAILBOX_PERL,
    NOTMUCH,
    SUBJECT_WINDOW,
    Agreement,
    collapse_dummies,
    match_mailbox_dump,
    match_notmuch_tree,
    read_mail_files,
    read_mailbox_dump,
    read_mbox,
    read_mhonarc_thread_index,
    read_notmuch_tree,
    score,
    thread,
)

from deskpulse.mail.thread_eval import cap_depth, parent_agreement  # noqa: E402
from deskpulse.mail.threading import ThreadInput, thread_messages  # noqa: E402


def print_agreement(name: str, agreement: Agreement, note: str = "") -> None:
    partition = agreement.partition
    print(
        f"{name:<36} {agreement.messages:>5} msgs  parents {agreement.parent_agreement:6.1%}  "
        f"pairs P {partition.precision:6.1%} R {partition.recall:6.1%} F1 {partition.f1:6.1%}  "
        f"exact threads {partition.exact_threads:6.1%} ({partition.truth_threads} truth, "
        f"{partition.predicted_threads} ours){note}"
    )


def fedora(data: Path) -> None:
    directory = data / FEDORA
    messages = read_mbox(directory / "2010-January.txt.gz")
    truth = read_mhonarc_thread_index(directory / "2010-January_thread.html.gz").parents
    assignments = thread(messages)
    agreement = score(truth, assignments)
    # MHonArc draws at most 3 levels below a root; cut our tree the same way for a like-for-like figure.
    capped = cap_depth({key: assignment.parent_key for key, assignment in assignments.items()}, 3)
    print_agreement(
        "fedora-devel-2010-01 (MHonArc)",
        agreement,
        f"; parents with our tree cut at depth 3 like MHonArc: {parent_agreement(truth, capped):.1%}",
    )


def notmuch(data: Path) -> None:
    directory = data / NOTMUCH / "test"
    messages = read_mail_files(directory / "corpora" / "default")
    lines = read_notmuch_tree(directory / "emacs-tree.expected-output" / "notmuch-tree-tag-inbox")
    truth = match_notmuch_tree(lines, messages)
    print_agreement("notmuch default (notmuch-tree)", score(truth, thread(messages)))


def mailbox_perl(data: Path) -> None:
    directory = data / MAILBOX_PERL
    messages = read_mbox(directory / "mbox.src")
    with_dummies = match_mailbox_dump(
        read_mailbox_dump(directory / "expected_thread_dump_105mbox-thread.txt"), messages
    )
    order = {message.key: (message.thread_input.sent_at, message.key) for message in messages}
    truth = collapse_dummies(with_dummies, order)
    print_agreement("mailbox-perl-imagemagick (Mail::Box)", score(truth, thread(messages)))


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
    print(f"subject window {SUBJECT_WINDOW.days} days; customer = sender address")
    for corpus in (fedora, notmuch, mailbox_perl):
        corpus(data)
    if arguments.synthetic:
        synthetic_speed(arguments.synthetic)


if __name__ == "__main__":
    main()
