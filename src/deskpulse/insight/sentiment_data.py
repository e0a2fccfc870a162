"""Labelled text for the sentiment model: the team's own CSV of labels, CSAT comments as weak labels, and any
labelled CSV for an evaluation.

A training CSV has a `label` column (`negative`, `neutral` or `positive`) and either a `text` column or a
`message_id` column naming a stored message, whose new text is what gets learnt. A CSAT answer with a comment is
a weak label: a low score (1–2 of 5, or "bad") says the comment is negative, 3 neutral, a high score positive.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deskpulse.inputs.csvfile import InputFileError, read_csv
from deskpulse.insight.sentiment import LABELS, NEGATIVE, NEUTRAL, POSITIVE
from deskpulse.mail.threading import extract_message_ids

if TYPE_CHECKING:
    from deskpulse.store import Store

# A CSAT score (1–5; "good" is stored as 5 and "bad" as 1) as a weak sentiment label.
CSAT_NEGATIVE_AT_MOST = 2
CSAT_POSITIVE_AT_LEAST = 4
CSAT_SOURCE = "csat comments"


@dataclass
class TrainingSet:
    """Texts with their labels, and how many came from each source."""

    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    sources: Counter[str] = field(default_factory=Counter)

    def add(self, text: str, label: str, source: str) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.sources[source] += 1


def read_training_csv(path: Path, store: Store | None, into: TrainingSet) -> None:
    """Add the labelled lines of ``path``; a `message_id` line takes its message's new text from ``store``."""
    lines = list(read_csv(path, required=("label",), optional=("text", "message_id")))
    ids = {}
    for record in lines:
        if (record.optional("text") is None) == (record.optional("message_id") is None):
            raise record.error("text", "give either the text or the message_id of the message, not both or neither")
        message_text = record.optional("message_id")
        if message_text is not None:
            found = extract_message_ids(message_text)
            if len(found) != 1:
                raise record.error("message_id", f"{message_text!r} is not one Message-ID (such as <abc@x.example>)")
            ids[record.line] = found[0]
    bodies = _bodies(store, sorted(set(ids.values()))) if ids else {}
    for record in lines:
        label = record.text("label").lower()
        if label not in LABELS:
            raise record.error("label", f"{record.text('label')!r} is not a label: use negative, neutral or positive")
        if record.line in ids:
            message_id = ids[record.line]
            if message_id not in bodies:
                raise record.error("message_id", f"<{message_id}> is not in the store: import its mail first")
            text = bodies[message_id]
        else:
            text = record.text("text")
        into.add(text, label, str(path))


def _bodies(store: Store | None, message_ids: list[str]) -> dict[str, str]:
    if store is None:
        raise InputFileError("a training file that names messages by message_id needs the store (--db)")
    rows = store.execute(
        "SELECT message_id, coalesce(body_text, '') FROM messages WHERE list_contains(?, message_id)", [message_ids]
    )
    return {str(message_id): str(body) for message_id, body in rows}


def add_csat_comments(store: Store, into: TrainingSet) -> None:
    """Add every CSAT answer with a comment, labelled by its score."""
    rows = store.execute(
        "SELECT comment, score FROM surveys WHERE kind = 'csat' AND score IS NOT NULL "
        "AND comment IS NOT NULL AND trim(comment) <> '' ORDER BY survey_id"
    )
    for comment, score in rows:
        if score <= CSAT_NEGATIVE_AT_MOST:
            label = NEGATIVE
        elif score >= CSAT_POSITIVE_AT_LEAST:
            label = POSITIVE
        else:
            label = NEUTRAL
        into.add(str(comment), label, CSAT_SOURCE)


@dataclass(frozen=True)
class LabelledFile:
    """The texts of any labelled CSV, each with its label as written; lines without a text or a label are
    counted, not used."""

    texts: list[str]
    labels: list[str]
    skipped: int


def read_labelled_csv(path: Path, text_column: str, label_column: str) -> LabelledFile:
    """The text and label columns of a CSV with any other columns (such as a public data set)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    texts, labels, skipped = [], [], 0
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
            for column in (text_column, label_column):
                if column not in header:
                    raise InputFileError(f"{path}:1: no column {column!r}; the columns are {', '.join(header)}")
            for row in reader:
                text, label = (row.get(text_column) or "").strip(), (row.get(label_column) or "").strip()
                if not text or not label:
                    skipped += 1
                    continue
                texts.append(text)
                labels.append(label)
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except csv.Error as exc:
            raise InputFileError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from exc
    if not texts:
        raise InputFileError(f"{path}: no line has both a {text_column!r} and a {label_column!r}")
    return LabelledFile(texts, labels, skipped)
