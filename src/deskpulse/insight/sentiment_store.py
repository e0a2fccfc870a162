"""Sentiment in the store: score the customer messages, compute each ticket's sentiment, raise sentiment flags.

`score_store` scores every customer message that the current method has not scored yet (the rules, or the
trained model when there is one and `[sentiment] use_model` is on) into `message_sentiment`, then refreshes the
sentiment flags of the review queue. A ticket's sentiment is not stored: `ticket_sentiment` computes it from the
stored message scores and the current threading, so it can never disagree with either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deskpulse.columns import arrow_table
from deskpulse.config import Config, SentimentConfig
from deskpulse.insight.flags import FlagCandidate, FlagChanges, refresh_flags
from deskpulse.insight.sentiment import NEGATIVE, RULES_ID, MessageSentiment, score_text
from deskpulse.insight.sentiment_lexicon import PHRASE_RULES, THREAT_SIGNALS
from deskpulse.schema import MESSAGE_SENTIMENT

if TYPE_CHECKING:
    from deskpulse.insight.sentiment_model import SentimentModel
    from deskpulse.store import Store

SENTIMENT_FLAG = "sentiment"
BATCH_ROWS = 5_000
_THREAT_REASONS = tuple(rule.reason for rule in PHRASE_RULES if rule.signal in THREAT_SIGNALS)


@dataclass(frozen=True)
class ScoreSummary:
    method: str
    scored: int  # messages scored in this run
    customer_messages: int  # customer messages in the store, all scored now
    flags: FlagChanges

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
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
    # Read on a cursor of its own: the store's connection writes each scored batch while the read goes on.
    reader = store.sql.cursor().sql(query, params=[] if rescore else [method]).to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        keys = batch.column("message_key").to_pylist()
        texts = batch.column("body_text").to_pylist()
        if model is not None:
            results = model.score(texts, settings.negative_below, settings.positive_above)
        else:
            results = [score_text(text, settings.negative_below, settings.positive_above) for text in texts]
        _write_scores(store, keys, results, method, now)
        scored += len(keys)
        if progress is not None:
            progress(len(keys))
    [(customer_messages,)] = store.execute("SELECT count(*) FROM messages WHERE author_role = 'customer'")
    flags = refresh_flags(store, SENTIMENT_FLAG, sentiment_flags(store, settings))
    return ScoreSummary(method, scored, int(customer_messages), flags)


def _write_scores(store: Store, keys: list[str], results: list[MessageSentiment], method: str, now: datetime) -> None:
    rows = arrow_table(
        MESSAGE_SENTIMENT,
        {
            "message_key": keys,
            "score": [r.score for r in results],
            "label": [r.label for r in results],
            "reasons": [list(r.reasons) for r in results],
            "signals": [list(r.signals) for r in results],
            "method": [method] * len(keys),
            "scored_at": [now] * len(keys),
        },
    )
    store.execute("BEGIN TRANSACTION")
    try:
        store.execute("DELETE FROM message_sentiment WHERE list_contains(?, message_key)", [keys])
        store.insert_new("message_sentiment", rows)
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
