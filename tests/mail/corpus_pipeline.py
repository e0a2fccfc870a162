"""Thread a corpus through the product's own pipeline and read the result back, keyed like the ground truth.

`ingest_corpus` imports a mail file or folder with `deskpulse.ingest.ingest_paths` into a fresh store (the
reader of `deskpulse.sources.mailbox`, the parser of `deskpulse.mail.parse`, the sender rules, then the
threader over the stored rows) and returns what the store holds: `messages` and `message_threads`, with every
message key replaced by the message's place in its source, so the threading lines up with `corpus_truth`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deskpulse.config import Config
from deskpulse.ingest import IngestSummary, ingest_paths
from deskpulse.mail.thread_eval import Agreement, compare
from deskpulse.store import Store

_MBOX_POSITION = re.compile(r"#(\d+) @\d+")
_MESSAGE_COLUMNS = [
    "message_key",
    "source_position",
    "message_id",
    "in_reply_to",
    "reference_ids",
    "normalized_subject",
    "from_address",
    "customer_address",
    "author_role",
    "role_reason",
    "received_at",
    "received_from",
    "date_header_at",
]


def corpus_key(source_position: str) -> str:
    """The ground truth's name of a stored message: ``#<n> @<offset>`` in an mbox → msgNNNNN (n counts from 0,
    as MHonArc's pages and `corpus_loader` do); a file of a folder is its path relative to the folder."""
    match = _MBOX_POSITION.fullmatch(source_position)
    return f"msg{int(match.group(1)):05d}" if match else source_position


@dataclass(frozen=True, slots=True)
class PipelineThreading:
    """One corpus after `ingest_paths`, every message named by `corpus_key`."""

    summary: IngestSummary
    messages: dict[str, dict[str, Any]]  # the stored `messages` row (the columns above)
    parents: dict[str, str | None]  # message_threads.parent_key
    threads: dict[str, str]  # message_threads.ticket_id
    links: dict[str, str]  # message_threads.thread_link: root, reference or subject
    problems: dict[str, list[tuple[str, str]]]  # `quarantine` rows: (reason, action) of each message met

    def stored_truth(self, truth: Mapping[str, str | None]) -> dict[str, str | None]:
        """`truth` on the messages the store holds. A message that was not stored (rejected, or a later copy of
        a stored Message-ID) has no threading to score; `not_stored` names them."""
        return {key: parent for key, parent in truth.items() if key in self.parents}

    def not_stored(self, truth: Mapping[str, str | None]) -> set[str]:
        return set(truth) - set(self.parents)

    def score(self, truth: Mapping[str, str | None]) -> Agreement:
        """Our threading against `truth`, on the ground-truth messages the store holds."""
        return compare(self.stored_truth(truth), self.parents, self.threads)


def ingest_corpus(mail: Path, store_path: Path, config: Config | None = None) -> PipelineThreading:
    """Import `mail` (an mbox, mbox.gz or folder) into a new store at `store_path` in this process, and read
    the result back. `Config()` by default: no agents, so every sender that the rules do not class as
    automation or system mail is a customer, and the customer is the sender."""
    store = Store.open(store_path)
    try:
        summary = ingest_paths(store, config or Config(), [mail], workers=0)
        rows = store.table("messages").select(_MESSAGE_COLUMNS).to_pyarrow().to_pylist()
        threads = store.table("message_threads").to_pyarrow().to_pylist()
        problems = store.table("quarantine").to_pyarrow().to_pylist()
    finally:
        store.close()
    name = {row["message_key"]: corpus_key(row["source_position"]) for row in rows}
    grouped: dict[str, list[tuple[str, str]]] = {}
    for problem in problems:
        grouped.setdefault(corpus_key(problem["source_position"]), []).append((problem["reason"], problem["action"]))
    return PipelineThreading(
        summary=summary,
        messages={name[row["message_key"]]: row for row in rows},
        parents={name[t["message_key"]]: name[t["parent_key"]] if t["parent_key"] else None for t in threads},
        threads={name[t["message_key"]]: t["ticket_id"] for t in threads},
        links={name[t["message_key"]]: t["thread_link"] for t in threads},
        problems=grouped,
    )
