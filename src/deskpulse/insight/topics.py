"""Emerging topics: what the tickets no category fits have been about lately, when that is new or growing.

The recent unclassified tickets are clustered by their words (TF-IDF of subject and new text, average-linkage
clustering on cosine distance), and each cluster is compared with the weeks before: a cluster whose kind of
ticket was absent is new, one that comes clearly more often than before is growing; the rest are the usual
mix and are not reported. A ticket of the earlier weeks belongs to a cluster by the same rule that grew it: its
average cosine similarity to the cluster's tickets reaches the linkage threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

# Words of two letters or more that start with a letter: identifiers and numbers (order ids, versions,
# dates) are what makes two tickets differ, not what makes them alike.
_WORDS = r"(?u)\b[^\W\d_][\w'-]*[^\W_]\b"


@dataclass(frozen=True)
class TopicSettings:
    """When tickets form a topic, and when a topic is news."""

    reference_days: int = 84  # the recent window is compared with this many days before it
    distance: float = 0.8  # clusters merge while their average cosine distance stays below this
    min_tickets: int = 3  # a topic has at least this many recent tickets…
    min_growth: float = 2.0  # …at least this many times its earlier rate…
    alpha: float = 0.01  # …and a rate that unlikely under the earlier one (Poisson)
    max_tickets: int = 3000  # at most this many recent tickets are clustered (the latest)
    terms: int = 6  # top terms shown per topic


@dataclass(frozen=True)
class TopicDocument:
    """One unclassified ticket: its id, the text it is clustered by, and whether it is in the recent window."""

    ticket_id: str
    subject: str
    text: str
    recent: bool


@dataclass(frozen=True)
class Topic:
    terms: list[str]
    tickets: int  # recent tickets in the cluster
    reference_tickets: int  # tickets of the reference window that belong to it
    expected: float  # recent tickets expected at the reference rate
    p_value: float
    ticket_ids: list[str]  # the recent tickets, closest to the cluster's centre first
    subjects: list[str]  # their subjects, in the same order

    @property
    def is_new(self) -> bool:
        return self.reference_tickets == 0


def emerging_topics(
    documents: Sequence[TopicDocument],
    recent_days: int,
    reference_days: int,
    settings: TopicSettings = TopicSettings(),
) -> list[Topic]:
    """The new or growing topics among ``documents``, most significant first. ``recent_days`` and
    ``reference_days`` are the days the data covers in the recent window and in the reference window before it
    (the other documents), which set the rates compared."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_distances

    recent = [d for d in documents if d.recent][-settings.max_tickets :]
    reference = [d for d in documents if not d.recent]
    if len(recent) < settings.min_tickets:
        return []
    vectorizer = TfidfVectorizer(
        stop_words="english", token_pattern=_WORDS, sublinear_tf=True, min_df=2, max_df=0.5, max_features=50_000
    )
    try:
        vectors = vectorizer.fit_transform([d.text for d in recent + reference])
    except ValueError:  # no word occurs in two tickets: nothing to group
        return []
    terms = vectorizer.get_feature_names_out()
    recent_vectors, reference_vectors = vectors[: len(recent)], vectors[len(recent) :]
    worded = np.flatnonzero(recent_vectors.getnnz(axis=1) > 0)
    if worded.size < settings.min_tickets:
        return []
    clustering = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=settings.distance
    )
    labels = clustering.fit_predict(cosine_distances(recent_vectors[worded]))
    similarity = 1.0 - settings.distance
    rate_scale = recent_days / max(reference_days, 1)
    topics = []
    for label in np.unique(labels):
        members = worded[labels == label]
        if members.size < settings.min_tickets:
            continue
        centre = np.asarray(recent_vectors[members].mean(axis=0)).ravel()
        earlier = int((reference_vectors @ centre >= similarity).sum()) if reference_days and reference else 0
        # Half a ticket before stands in for none, so a new topic of a few tickets is judged, not certain.
        expected = max(earlier, 0.5) * rate_scale
        p_value = float(stats.poisson.sf(members.size - 1, expected))
        if p_value >= settings.alpha or members.size < settings.min_growth * earlier * rate_scale:
            continue
        closeness = np.asarray(recent_vectors[members] @ centre).ravel()
        ordered = [recent[i] for i in members[np.argsort(-closeness, kind="stable")]]
        topics.append(
            Topic(
                terms=[str(terms[i]) for i in np.argsort(-centre, kind="stable")[: settings.terms]],
                tickets=int(members.size),
                reference_tickets=earlier,
                expected=earlier * rate_scale,
                p_value=p_value,
                ticket_ids=[d.ticket_id for d in ordered],
                subjects=[d.subject for d in ordered],
            )
        )
    return sorted(topics, key=lambda t: (t.p_value, -t.tickets))
