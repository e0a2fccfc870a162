"""Categories in the store: manual labels in, the training set out, and every ticket's category written back.

A ticket's category comes from the first of: the help desk's own (`tickets.category` as a source set it), a
manual label (`category_labels`), the first taxonomy rule that matches, the model when it is confident enough;
otherwise it is `Unclassified` and queued for review. The result goes to `ticket_categories` and to
`tickets.category`, where the KPI engine's ``--by category`` reads it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deskpulse.columns import arrow_table
from deskpulse.inputs.csvfile import read_csv, ticket_reference
from deskpulse.insight.category_model import CategoryModel
from deskpulse.insight.runs import next_run_id
from deskpulse.insight.taxonomy import UNCLASSIFIED, Taxonomy, TicketText, category_name, category_path
from deskpulse.schema import CATEGORY_LABELS, CATEGORY_RUNS, TICKET_CATEGORIES
from deskpulse.store import Store

METHODS = ("source", "label", "rule", "model", "none")


def load_labels(store: Store, path: Path, taxonomy: Taxonomy) -> int:
    """Store the labels of a CSV file (columns ticket_id or message_id, and category); return how many.

    A label replaces an earlier one for the same ticket (a correction). A category the taxonomy does not know
    stops the load with its line, storing nothing: a typo would otherwise become a class of its own.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    rows: dict[tuple[str | None, str | None], str] = {}
    lines: dict[tuple[str | None, str | None], int] = {}
    for record in read_csv(path, ("category",), ("ticket_id", "message_id")):
        reference = ticket_reference(record)
        name = record.text("category")
        category = taxonomy.spelled(name)
        if category is None:
            raise record.error("category", f"{name!r} is not a category of the taxonomy {taxonomy.source}")
        if category_path(category)[0].lower() == UNCLASSIFIED.lower():
            raise record.error("category", f"{UNCLASSIFIED!r} is not a category to learn; leave the line out")
        if reference in lines:
            raise record.error("category", f"labels the same ticket as line {lines[reference]}; keep one of them")
        lines[reference] = record.line
        rows[reference] = category
    table = arrow_table(
        CATEGORY_LABELS,
        {
            "ticket_id": [ticket for ticket, _ in rows],
            "message_id": [message for _, message in rows],
            "category": list(rows.values()),
            "labelled_at": [now] * len(rows),
            "source": [str(path)] * len(rows),
        },
    )
    store.execute(
        "DELETE FROM category_labels WHERE (message_id IS NULL AND list_contains(?, ticket_id)) "
        "OR (ticket_id IS NULL AND list_contains(?, message_id))",
        [[t for t, _ in rows if t is not None], [m for _, m in rows if m is not None]],
    )
    return store.insert_new("category_labels", table)


def ticket_texts(store: Store, *, uncategorised: bool = False) -> dict[str, TicketText]:
    """What the rules and the model see of every ticket (with ``uncategorised``, of those without a row in
    `ticket_categories` yet): the subject and new text of its first message, its sender's domain, its mailbox,
    and its tags with the labels (folders) of that message."""
    condition = (
        "WHERE NOT EXISTS (SELECT 1 FROM ticket_categories c WHERE c.ticket_id = t.ticket_id)" if uncategorised else ""
    )
    rows = store.execute(
        f"""
        SELECT t.ticket_id, coalesce(m.subject, t.subject, ''), coalesce(m.body_text, ''),
               split_part(m.from_address, '@', 2), t.mailbox,
               list_distinct(list_concat(
                   coalesce((SELECT list(lower(tag)) FROM ticket_tags g WHERE g.ticket_id = t.ticket_id), []),
                   coalesce((SELECT list(lower(label)) FROM message_labels l
                             WHERE l.message_key = t.root_message_key), [])))
        FROM tickets t LEFT JOIN messages m ON m.message_key = t.root_message_key
        {condition}
        ORDER BY t.ticket_id
        """
    )
    return {
        ticket: TicketText(subject, body, domain or None, mailbox, frozenset(tags or ()))
        for ticket, subject, body, domain, mailbox, tags in rows
    }


def known_categories(store: Store) -> tuple[dict[str, str], dict[str, str]]:
    """The categories people gave tickets: ``(from the help desk, from manual labels)``, each by ticket_id.

    A `tickets.category` counts as the help desk's unless it is what `apply_categories` wrote there itself (a
    rule's or the model's guess must never be learnt as truth). A label naming a message finds its ticket
    through the message's Message-ID.
    """
    source = dict(
        store.execute(
            """
            SELECT t.ticket_id, t.category FROM tickets t LEFT JOIN ticket_categories c USING (ticket_id)
            WHERE t.category IS NOT NULL AND t.category <> ?
              AND (c.ticket_id IS NULL OR c.method = 'source' OR c.category IS DISTINCT FROM t.category)
            """,
            [UNCLASSIFIED],
        )
    )
    labels = dict(
        store.execute(
            """
            SELECT coalesce(l.ticket_id, mt.ticket_id) AS ticket, arg_max(l.category, l.labelled_at)
            FROM category_labels l
            LEFT JOIN messages m ON l.ticket_id IS NULL AND m.message_id = l.message_id
            LEFT JOIN message_threads mt ON mt.message_key = m.message_key
            WHERE coalesce(l.ticket_id, mt.ticket_id) IS NOT NULL
            GROUP BY ticket
            """
        )
    )
    return source, labels


@dataclass
class TrainingSet:
    ticket_ids: list[str]
    texts: list[str]
    paths: list[tuple[str, ...]]
    origins: Counter[str] = field(default_factory=Counter)  # how many came from the help desk, how many labels


def training_set(store: Store) -> TrainingSet:
    """Every ticket with a known category, the help desk's first (as `apply_categories` ranks them)."""
    source, labels = known_categories(store)
    texts = ticket_texts(store)
    data = TrainingSet([], [], [])
    for ticket_id, text in texts.items():
        origin = "source" if ticket_id in source else "label" if ticket_id in labels else None
        if origin is None:
            continue
        data.ticket_ids.append(ticket_id)
        data.texts.append(text.text)
        data.paths.append(category_path(source.get(ticket_id) or labels[ticket_id]))
        data.origins[origin] += 1
    return data


@dataclass
class Classification:
    ticket_id: str
    category: str
    confidence: float
    method: str
    method_detail: str | None = None
    suggestion: str | None = None
    needs_review: bool = False


def classify_tickets(
    texts: dict[str, TicketText],
    source: dict[str, str],
    labels: dict[str, str],
    taxonomy: Taxonomy,
    model: CategoryModel | None,
    threshold: float,
) -> list[Classification]:
    """The category of every ticket: help desk, label, rule, model, else Unclassified (pure: no store)."""
    results: dict[str, Classification] = {}
    for_model = []
    for ticket_id, text in texts.items():
        if ticket_id in source:
            results[ticket_id] = Classification(ticket_id, source[ticket_id], 1.0, "source")
        elif ticket_id in labels:
            results[ticket_id] = Classification(ticket_id, labels[ticket_id], 1.0, "label", "manual label")
        elif (matched := taxonomy.match(text)) is not None:
            results[ticket_id] = Classification(ticket_id, matched[0], 1.0, "rule", matched[1])
        elif model is not None:
            for_model.append(ticket_id)
        else:
            results[ticket_id] = Classification(ticket_id, UNCLASSIFIED, 0.0, "none", "no rule matched, no model")
            results[ticket_id].needs_review = True
    if model is not None and for_model:
        predictions = model.predict([texts[ticket_id].text for ticket_id in for_model])
        for ticket_id, prediction in zip(for_model, predictions, strict=True):
            category, confidence, review = prediction.decide(threshold)
            suggestion = category_name(prediction.path) or None
            results[ticket_id] = Classification(
                ticket_id, category, confidence, "model", model.model_id, suggestion, review
            )
    return [results[ticket_id] for ticket_id in texts]


@dataclass
class ApplySummary:
    run_id: int  # this run's number in `category_runs`
    tickets: int
    by_method: Counter[str]
    by_category: Counter[str]
    needs_review: int


def apply_categories(store: Store, taxonomy: Taxonomy, model: CategoryModel | None, threshold: float) -> ApplySummary:
    """Classify every ticket and store the result in `ticket_categories`, `tickets.category` and, under a new run
    number, `category_runs`."""
    texts = ticket_texts(store)
    source, labels = known_categories(store)
    results = classify_tickets(texts, source, labels, taxonomy, model, threshold)
    columns = _store_classifications(store, results, replace_all=True)
    # The same answers, kept under this run's number: `categorize compare` sets a run with a new model beside
    # the last one. Every row is new (a new run number), so a plain append does.
    run_id = next_run_id(store, "category_runs")
    history = {name: columns[name] for name in ("ticket_id", "category", "confidence", "method", "classified_at")}
    history["run_id"] = [run_id] * len(results)
    history["model"] = [None if model is None else model.model_id] * len(results)
    store.append("category_runs", arrow_table(CATEGORY_RUNS, history))
    return ApplySummary(
        run_id,
        len(results),
        Counter(result.method for result in results),
        Counter(result.category for result in results),
        sum(result.needs_review for result in results),
    )


def categorise_new_tickets(store: Store, taxonomy: Taxonomy, model: CategoryModel | None, threshold: float) -> int:
    """Classify the tickets `apply_categories` has not seen (new mail since it last ran; a ticket whose id a late
    message changed) as it would, into `ticket_categories` and `tickets.category`; return how many. They join the
    current state, not a numbered run: `categorize apply` makes runs."""
    texts = ticket_texts(store, uncategorised=True)
    if not texts:
        return 0
    source, labels = known_categories(store)
    _store_classifications(store, classify_tickets(texts, source, labels, taxonomy, model, threshold))
    return len(texts)


def _store_classifications(
    store: Store, results: list[Classification], *, replace_all: bool = False
) -> dict[str, list[Any]]:
    """Write ``results`` into `ticket_categories` (replacing every row with ``replace_all``, else adding) and the
    categories deskpulse chose into `tickets.category`; return the rows' columns."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    columns: dict[str, list[Any]] = {name: [] for name in TICKET_CATEGORIES.column_names}
    for result in results:
        for name in ("ticket_id", "category", "confidence", "method", "method_detail", "suggestion", "needs_review"):
            columns[name].append(getattr(result, name))
        columns["classified_at"].append(now)
    rows = arrow_table(TICKET_CATEGORIES, columns)
    if replace_all:
        store.replace_all("ticket_categories", rows)
    else:
        store.insert_new("ticket_categories", rows)
    # Written in place so that `kpis --by category` sees it at once. The derived fact tables hold no category
    # (the engine joins it from `tickets` at query time), so they stay valid.
    store.execute(
        "UPDATE tickets SET category = c.category FROM ticket_categories c "
        "WHERE tickets.ticket_id = c.ticket_id AND c.method <> 'source'"
    )
    return columns


def review_queue(store: Store, limit: int | None = None) -> list[dict[str, Any]]:
    """Tickets queued for review, least confident first, with what a person needs to label them."""
    rows = store.execute(
        """
        SELECT c.ticket_id, t.subject, c.category, c.suggestion, c.confidence, c.method, t.created_at
        FROM ticket_categories c JOIN tickets t USING (ticket_id)
        WHERE c.needs_review
        ORDER BY c.confidence, t.created_at, c.ticket_id
        """
        + ("" if limit is None else f" LIMIT {int(limit)}")
    )
    names = ("ticket_id", "subject", "category", "suggestion", "confidence", "method", "created_at")
    return [dict(zip(names, row, strict=True)) for row in rows]
