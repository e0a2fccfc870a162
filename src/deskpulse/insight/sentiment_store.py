"""Sentiment in the store: score the customer messages, compute each ticket's sentiment, raise sentiment flags.

`score_store` scores every customer message that the current method has not scored yet (the rules, or the
trained model when there is one and `[sentiment] use_model` is on) into `message_sentiment`, then refreshes the
sentiment flags of the review queue. A ticket's sentiment is not stored: `ticket_sentiment` computes it from the
stored message scores and the current threading, so it can never disagree with either.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskpulse.columns import arrow_table
from deskpulse.config import Config, SentimentConfig
from deskpulse.insight.flags import FlagCandidate, FlagChanges, refresh_flags
from deskpulse.insight.runs import next_run_id
from deskpulse.insight.sentiment import NEGATIVE, RULES_ID, MessageSentiment, score_text
from deskpulse.insight.sentiment_lexicon import PHRASE_RULES, THREAT_SIGNALS
from deskpulse.schema import MESSAGE_SENTIMENT, SENTIMENT_RUNS

if TYPE_CHECKING:
    from deskpulse.insight.sentiment_model import SentimentModel
    from deskpulse.store import Store

SENTIMENT_FLAG = "sentiment"
BATCH_ROWS = 5_000
# From this many messages on, the rules score in worker processes (one per core): below it, starting them costs more.
PARALLEL_MINIMUM = 20_000
_THREAT_REASONS = tuple(rule.reason for rule in PHRASE_RULES if rule.signal in THREAT_SIGNALS)


@dataclass(frozen=True)
class ScoreSummary:
    method: str
    run_id: int | None  # this run's number in `sentiment_runs`; None when it scored nothing
    scored: int  # messages scored in this run
    customer_messages: int  # customer messages in the store, all scored now
    flags: FlagChanges

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "run_id": self.run_id,
            "scored": self.scored,
            "customer_messages": self.customer_messages,
            "flags_raised": self.flags.raised,
            "flags_refreshed": self.flags.refreshed,
            "flags_withdrawn": self.flags.withdrawn,
            "open_flags": self.flags.open,
        }


def current_model(db: Path | None, settings: SentimentConfig) -> SentimentModel | None:
    """The model `deskpulse sentiment train` saved beside the store, when there is one and it is to be used."""
    if db is None or not settings.use_model:
        return None
    from deskpulse.insight.sentiment_model import load, model_path

    return load(model_path(db))


def score_store(
    store: Store,
    config: Config,
    model: SentimentModel | None,
    *,
    rescore: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ScoreSummary:
    """Score the customer messages not yet scored by the current method (all of them with ``rescore``), then
    refresh the sentiment flags."""
    settings = config.sentiment
    method = model.model_id if model is not None else RULES_ID
    now = datetime.now(UTC).replace(tzinfo=None)
    condition = "" if rescore else "AND (s.message_key IS NULL OR s.method IS DISTINCT FROM ?)"
    query = (
        "SELECT m.message_key, coalesce(m.body_text, '') AS body_text FROM messages m "
        "LEFT JOIN message_sentiment s ON s.message_key = m.message_key "
        f"WHERE m.author_role = 'customer' {condition} ORDER BY m.message_key"
    )
    scored = 0
    run_id = next_run_id(store, "sentiment_runs")
    # Read on a cursor of its own: the store's connection writes each scored batch while the read goes on.
    params = [] if rescore else [method]
    [(to_score,)] = store.sql.cursor().execute(f"SELECT count(*) FROM ({query})", params).fetchall()
    reader = store.sql.cursor().sql(query, params=params).to_arrow_reader(BATCH_ROWS)
    batches = ((b.column("message_key").to_pylist(), b.column("body_text").to_pylist()) for b in reader)
    if model is not None:
        # The model scores a batch at once in compiled code: no gain from more processes.
        scored_batches: Iterator[tuple[list[str], list[MessageSentiment]]] = (
            (keys, model.score(texts, settings.negative_below, settings.positive_above)) for keys, texts in batches
        )
    else:
        scored_batches = _rule_scores(batches, to_score, settings.negative_below, settings.positive_above)
    for keys, results in scored_batches:
        _write_scores(store, keys, results, method, now, run_id)
        scored += len(keys)
        if progress is not None:
            progress(len(keys))
    [(customer_messages,)] = store.execute("SELECT count(*) FROM messages WHERE author_role = 'customer'")
    flags = refresh_flags(store, SENTIMENT_FLAG, sentiment_flags(store, settings))
    return ScoreSummary(method, run_id if scored else None, scored, int(customer_messages), flags)


def _rule_scores(
    batches: Iterator[tuple[list[str], list[str]]], total: int, negative_below: float, positive_above: float
) -> Iterator[tuple[list[str], list[MessageSentiment]]]:
    """Each batch's keys and rule scores, in order. The rules are Python run per message (about a third of a
    millisecond each), so a large store is scored by one worker process per core while this process writes the
    finished batches; a small one in this process, where starting workers would cost more than it saves."""
    workers = os.cpu_count() or 1
    if workers < 2 or total < PARALLEL_MINIMUM:
        for keys, texts in batches:
            yield keys, [score_text(text, negative_below, positive_above) for text in texts]
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque[tuple[list[str], Future[list[MessageSentiment]]]] = deque()
        for keys, texts in batches:
            pending.append((keys, pool.submit(_score_texts, texts, negative_below, positive_above)))
            if len(pending) > 2 * workers:  # bounded read-ahead: the texts of a few batches in memory at a time
                done_keys, future = pending.popleft()
                yield done_keys, future.result()
        while pending:
            done_keys, future = pending.popleft()
            yield done_keys, future.result()


def _score_texts(texts: list[str], negative_below: float, positive_above: float) -> list[MessageSentiment]:
    return [score_text(text, negative_below, positive_above) for text in texts]


def _write_scores(
    store: Store, keys: list[str], results: list[MessageSentiment], method: str, now: datetime, run_id: int
) -> None:
    """Replace the batch's rows of `message_sentiment` and add them to `sentiment_runs` under this run."""
    scores = [r.score for r in results]
    labels = [r.label for r in results]
    methods = [method] * len(keys)
    times = [now] * len(keys)
    rows = arrow_table(
        MESSAGE_SENTIMENT,
        {
            "message_key": keys,
            "score": scores,
            "label": labels,
            "reasons": [list(r.reasons) for r in results],
            "signals": [list(r.signals) for r in results],
            "method": methods,
            "scored_at": times,
        },
    )
    history: dict[str, list[Any]] = {"message_key": keys, "score": scores, "label": labels, "method": methods}
    history.update(scored_at=times, run_id=[run_id] * len(keys))
    store.execute("BEGIN TRANSACTION")
    try:
        store.execute("DELETE FROM message_sentiment WHERE list_contains(?, message_key)", [keys])
        # The batch's keys are new to message_sentiment (just deleted) and to this run: no anti-join needed.
        store.append("message_sentiment", rows)
        store.append("sentiment_runs", arrow_table(SENTIMENT_RUNS, history))
        store.execute("COMMIT")
    except Exception:
        store.execute("ROLLBACK")
        raise


# --- tickets -------------------------------------------------------------------------------------------------


def ticket_sentiment(tables: Any, settings: SentimentConfig) -> Any:
    """Each ticket's sentiment from its scored customer messages, as an Ibis table (any engine).

    `sentiment` is the mean of the message scores with the k-th message weighing k: how the customer feels now
    matters more than how they began, yet one calm last line does not erase a thread of anger. Also: the label,
    the number of customer messages, the first, last and lowest score, `sentiment_change` (last minus first:
    below zero the customer is getting angrier) and the latest customer message (key, label, reasons, time)."""
    import ibis

    scores = tables.table("message_sentiment")
    threads = tables.table("message_threads").select("message_key", "ticket_id")
    received = tables.table("messages").select("message_key", "received_at")
    joined = scores.join(threads, "message_key").join(received, "message_key")
    in_order = ibis.window(group_by=joined.ticket_id, order_by=[joined.received_at, joined.message_key])
    ranked = joined.mutate(weight=ibis.row_number().over(in_order) + 1)
    per_ticket = ranked.group_by("ticket_id").aggregate(
        customer_messages=ranked.count(),
        sentiment=(ranked.weight * ranked.score).sum() / ranked.weight.sum(),
        first_score=ranked.score.argmin(ranked.weight),
        last_score=ranked.score.argmax(ranked.weight),
        lowest_score=ranked.score.min(),
        last_message_key=ranked.message_key.argmax(ranked.weight),
        last_label=ranked.label.argmax(ranked.weight),
        last_reasons=ranked.reasons.argmax(ranked.weight),
        last_received_at=ranked.received_at.max(),
    )
    return per_ticket.mutate(
        sentiment=per_ticket.sentiment.round(4),
        sentiment_label=ibis.cases(
            (per_ticket.sentiment < settings.negative_below, "negative"),
            (per_ticket.sentiment > settings.positive_above, "positive"),
            else_="neutral",
        ),
        sentiment_change=(per_ticket.last_score - per_ticket.first_score).round(4),
    )


# --- flags ---------------------------------------------------------------------------------------------------


def sentiment_flags(store: Store, settings: SentimentConfig) -> list[FlagCandidate]:
    """The sentiment flags the store's tickets deserve now (tickets that metrics leave out get none)."""
    tickets = store.table("tickets")
    countable = tickets.filter(tickets.excluded_reason.isnull() & tickets.merged_into.isnull()).select("ticket_id")
    per_ticket = ticket_sentiment(store, settings).join(countable, "ticket_id")
    ticket_rows = store.arrow(per_ticket).to_pylist()
    threat_rows: list[dict[str, Any]] = []
    if settings.flag_threats:
        scores = store.table("message_sentiment")
        threats = scores.filter(scores.signals.length() > 0).join(
            store.table("message_threads").select("message_key", "ticket_id"), "message_key"
        )
        threats = threats.join(store.table("messages").select("message_key", "received_at"), "message_key")
        threat_rows = [
            row
            for row in store.arrow(threats.join(countable, "ticket_id")).to_pylist()
            if THREAT_SIGNALS.intersection(row["signals"])
        ]
    return flag_candidates(ticket_rows, threat_rows, settings)


def flag_candidates(
    tickets: list[dict[str, Any]], threat_messages: list[dict[str, Any]], settings: SentimentConfig
) -> list[FlagCandidate]:
    """Which tickets go to the review queue, and why (the rows of `ticket_sentiment`, and the messages carrying
    a threat signal).

    A ticket is flagged at its latest customer message when that message is negative and either the ticket's
    sentiment is below `flag_below` or the customer's mood fell by `worsening_drop` since their first message.
    With `flag_threats`, the latest message threatening a chargeback, legal steps or leaving flags it too (one
    flag when it is the same message). A new customer message therefore raises a new flag, and an open flag
    whose message is no longer the latest, or no longer negative, goes away."""
    flags: dict[str, FlagCandidate] = {}
    for row in tickets:
        reasons = []
        if row["last_label"] == NEGATIVE:
            if row["sentiment"] < settings.flag_below:
                # The strongest reason of the latest message; a threat has a clause of its own below.
                causes = [r for r in row["last_reasons"] or [] if not r.startswith(_THREAT_REASONS)]
                cause = f" ({causes[0]})" if causes else ""
                reasons.append(
                    f"very negative: ticket {row['sentiment']:+.2f}, latest message {row['last_score']:+.2f}{cause}"
                )
            if row["customer_messages"] >= 2 and row["sentiment_change"] <= -settings.worsening_drop:
                reasons.append(
                    f"getting worse: {row['first_score']:+.2f} → {row['last_score']:+.2f} over "
                    f"{row['customer_messages']} customer messages"
                )
        if reasons:
            key = row["last_message_key"]
            flags[key] = FlagCandidate(
                SENTIMENT_FLAG, key, row["ticket_id"], "; ".join(reasons), row["sentiment"], row["last_received_at"]
            )
    scores = {row["ticket_id"]: row["sentiment"] for row in tickets}
    latest_threat: dict[str, dict[str, Any]] = {}
    for message in threat_messages:
        held = latest_threat.get(message["ticket_id"])
        if held is None or (message["received_at"], message["message_key"]) > (
            held["received_at"],
            held["message_key"],
        ):
            latest_threat[message["ticket_id"]] = message
    for ticket_id, message in latest_threat.items():
        said = [r for r in message["reasons"] if r.startswith(_THREAT_REASONS)] or [
            ", ".join(sorted(THREAT_SIGNALS.intersection(message["signals"]))) + " threat"
        ]
        key = message["message_key"]
        known = flags.get(key)
        reason = "; ".join(said if known is None else [*said, known.reason])
        score = scores.get(ticket_id, message["score"])
        flags[key] = FlagCandidate(SENTIMENT_FLAG, key, ticket_id, reason, score, message["received_at"])
    return sorted(flags.values(), key=lambda flag: (flag.ticket_id, flag.message_key))
