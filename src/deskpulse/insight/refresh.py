"""Keep the insight up with a live mailbox: after a sync stored new mail (`deskpulse sync imap`, `watch`), score
its customer messages' sentiment and categorise the tickets that have no category yet, so an angry customer is in
the review queue (`deskpulse flags`) at the next sync, not at the next manual run.

Both steps only do what is new: `score_store` scores the messages the current method has not scored, and
`categorise_new_tickets` the tickets `categorize apply` has not seen, with the taxonomy's rules and the trained
model when there is one (without either there is nothing to categorise by).
"""

from __future__ import annotations

from dataclasses import dataclass

from deskpulse.config import Config
from deskpulse.store import Store


@dataclass(frozen=True)
class InsightRefresh:
    scored: int  # customer messages scored now
    open_flags: int  # flags waiting for a manager's review, after this refresh
    raised: int  # flags raised by this refresh
    categorised: int | None  # tickets categorised now; None without a taxonomy file or a model

    def as_dict(self) -> dict[str, int | None]:
        return {
            "scored": self.scored,
            "open_flags": self.open_flags,
            "raised": self.raised,
            "categorised": self.categorised,
        }


def refresh_insight(store: Store, config: Config) -> InsightRefresh:
    """Score the new customer messages (raising and withdrawing flags) and categorise the new tickets."""
    from deskpulse.insight.categories import categorise_new_tickets
    from deskpulse.insight.category_model import CategoryModel, model_path
    from deskpulse.insight.sentiment_store import current_model, score_store
    from deskpulse.insight.taxonomy import load_taxonomy

    sentiment = score_store(store, config, current_model(store.path, config.sentiment))
    categorised = None
    path = None if store.path is None else model_path(store.path)
    if config.files.categories is not None or (path is not None and path.exists()):
        taxonomy = load_taxonomy(config.files.categories)
        model = CategoryModel.load(path) if path is not None and path.exists() else None
        categorised = categorise_new_tickets(store, taxonomy, model, taxonomy.threshold)
    flags = sentiment.flags
    return InsightRefresh(sentiment.scored, flags.open, flags.raised, categorised)
