"""Every month of the R-help mailing list, 2019-01 … 2026-07, imported into one store.

91 pipermail mbox files, 45 MB (see `r-help-mbox/PROVENANCE.md` in the shared data). Every figure deskpulse
reports is checked against an independent count made here with the standard library alone.

Measured on this corpus:

* 11,934 messages in the files by `mailbox.mbox` (PROVENANCE.md says the same), 19 of which are not mail:
  pipermail does not escape body lines that start with "From ", so `mailbox.mbox` splits a message there and
  the fragment has no header at all. deskpulse splits only at envelope lines ("From <sender> <date>"), so it
  reads 11,934 − 19 = 11,915 messages and each of those 19 lines stays in the body it belongs to.
* 11 Message-IDs occur twice (a message archived twice); the first copy is stored, the second is a duplicate.
* Stored: 11,915 − 11 = 11,904; nothing quarantined.
* Reference-connected threads (connected components over Message-ID, In-Reply-To and References): 2,994
  (PROVENANCE.md: "~2,996"). deskpulse makes 2,936 tickets: its Message-ID threading gives the same 2,994
  conversations, and the subject fallback (same normalised subject, same sender, within 14 days) then joins
  58 of them to an earlier one: 2,994 − 58 = 2,936.
"""

from __future__ import annotations

import mailbox
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from deskpulse.config import parse_config
from deskpulse.ingest import IngestSummary, ingest_paths
from deskpulse.store import Store

pytestmark = pytest.mark.slow

_BRACKETED = re.compile(r"<([^<>]+)>")


@dataclass(frozen=True)
class Census:
    """What the standard library sees in the files."""

    messages: int
    headerless: set[tuple[str, int]]  # (file, index in the file) of fragments with no header at all
    fragments: list[tuple[str, str]]  # (Message-ID of the message before a fragment, the fragment's first line)
    repeated_ids: int  # copies beyond the first of each Message-ID
    threads: int  # connected components over Message-ID / In-Reply-To / References


def census(files: list[Path]) -> Census:
    parent: dict[object, object] = {}

    def find(node: object) -> object:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    messages = 0
    headerless: set[tuple[str, int]] = set()
    fragments: list[tuple[str, str]] = []
    ids: Counter[str] = Counter()
    nodes: list[object] = []
    for path in files:
        box = mailbox.mbox(path, create=False)
        previous_id = ""
        for index, message in enumerate(box):
            messages += 1
            if not message.keys():
                headerless.add((str(path), index))
                first_line = message.get_from()  # the body line mailbox.mbox took for an envelope
                fragments.append((previous_id, "From " + first_line))
                continue
            own = _BRACKETED.findall(message["Message-ID"] or "")
            previous_id = own[0].strip() if own else ""
            node: object = own[0].strip() if own else (str(path), index)
            if own:
                ids[own[0].strip()] += 1
            nodes.append(find(node))
            for header in ("In-Reply-To", "References"):
                for reference in _BRACKETED.findall(message[header] or ""):
                    parent[find(reference.strip())] = find(node)
        box.close()
    return Census(
        messages=messages,
        headerless=headerless,
        fragments=fragments,
        repeated_ids=sum(count - 1 for count in ids.values()),
        threads=len({find(node) for node in nodes}),
    )


@dataclass(frozen=True)
class Imported:
    files: list[Path]
    summary: IngestSummary
    store: Store


@pytest.fixture(scope="module")
def r_help(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    files = sorted((shared_data / "r-help-mbox" / "r-help").glob("*.txt"))
    db = tmp_path_factory.mktemp("r-help") / "deskpulse.duckdb"
    with Store.open(db) as store:
        # No help desk configured: a mailing list has no agents, so every sender is a customer.
        summary = ingest_paths(store, parse_config({}), files)
        yield Imported(files, summary, store)


@pytest.fixture(scope="module")
def stdlib(r_help: Imported) -> Census:
    return census(r_help.files)


def test_all_91_months_are_read(r_help: Imported) -> None:
    assert len(r_help.files) == 91
    assert {f.name for f in r_help.files} >= {"2019-January.txt", "2026-July.txt"}


def test_every_message_is_stored_or_a_duplicate(r_help: Imported, stdlib: Census) -> None:
    summary = r_help.summary
    assert stdlib.messages == 11_934
    assert len(stdlib.headerless) == 19
    assert summary.read == stdlib.messages - len(stdlib.headerless) == 11_915
    assert summary.read == summary.stored + summary.duplicates + summary.quarantined
    assert summary.duplicates == stdlib.repeated_ids == 11
    assert summary.quarantined == r_help.store.count("quarantine") == 0
    assert summary.stored == r_help.store.count("messages") == 11_904


def test_unescaped_from_lines_stay_in_the_message_they_belong_to(r_help: Imported, stdlib: Census) -> None:
    # Where mailbox.mbox split a message at a body line starting with "From ", that line is still part of
    # the message before it in our store (as new text, quoted history or signature).
    messages = r_help.store.table("messages")
    assert len(stdlib.fragments) == 19
    for message_id, line in stdlib.fragments:
        [row] = messages.filter(messages.message_id == message_id).to_pyarrow().to_pylist()
        text = "\n".join((row["body_text"], row["quoted_text"], row["signature"]))
        assert line.rstrip() in text, (message_id, line)


def test_pipermail_keeps_no_received_headers_so_every_time_comes_from_date(r_help: Imported) -> None:
    messages = r_help.store.table("messages")
    sources = messages.group_by("received_from").aggregate(n=messages.count()).to_pyarrow().to_pylist()
    assert sources == [{"received_from": "date_header", "n": 11_904}]
    span = messages.aggregate(first=messages.received_at.min(), last=messages.received_at.max()).to_pyarrow()
    # PROVENANCE.md: dates 2019-01-01 … 2026-07-13.
    assert span["first"][0].as_py() >= datetime(2019, 1, 1)
    assert span["last"][0].as_py() < datetime(2026, 7, 14)


def test_tickets_are_the_reference_connected_threads_less_the_subject_joins(r_help: Imported, stdlib: Census) -> None:
    store = r_help.store
    threads = store.table("message_threads")
    subject_joins = threads.filter(threads.thread_link == "subject").count().to_pyarrow().as_py()
    tickets = store.count("tickets")

    assert stdlib.threads == 2_994
    assert r_help.summary.tickets == tickets == 2_936
    assert subject_joins == 58
    # The subject fallback only ever joins conversations, so we can have fewer tickets, never more; every
    # conversation the ids connect is one ticket, so the difference is exactly the subject joins.
    assert tickets <= stdlib.threads
    assert stdlib.threads - tickets == subject_joins
    assert stdlib.threads - tickets <= 0.02 * stdlib.threads
    assert threads.ticket_id.nunique().to_pyarrow().as_py() == tickets
