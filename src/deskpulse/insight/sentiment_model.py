"""A sentiment model trained on the team's own labelled text: TF-IDF and a linear model (scikit-learn).

The rules of `deskpulse.insight.sentiment` are not thrown away when a model exists: their score and the support
signals they find are features of the model, next to word and character n-grams, so the model learns how far to
trust them on this team's text. The threat signals keep flagging a ticket whatever the model says (see
`deskpulse.insight.flags`). The model is saved next to the store; `SentimentModel.score` is what scoring uses.

Imported only by the commands that need it: scikit-learn takes a second to import.
"""

from __future__ import annotations

import hashlib
import pickle
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer

from deskpulse.config import SentimentConfig
from deskpulse.errors import UserError
from deskpulse.insight.sentiment import LABELS, NEGATIVE, POSITIVE, MessageSentiment, label_for, score_text
from deskpulse.insight.sentiment_lexicon import PHRASE_RULES

MODEL_FORMAT = 1
# Fewer examples than this of a label, and the model cannot learn it: training stops and says so.
MIN_EXAMPLES_PER_LABEL = 5
_SIGNALS = (*dict.fromkeys(rule.signal for rule in PHRASE_RULES if rule.valence != 0), "capitals")


class SentimentModelError(UserError):
    """Labelled text that cannot train a model, or a saved model that cannot be used."""


def model_path(db: Path) -> Path:
    """Where the model of the store ``db`` is saved: beside it, ``<store name>.sentiment-model.pickle``."""
    return db.with_name(db.stem + ".sentiment-model.pickle")


def rule_features(texts: Sequence[str]) -> Any:
    """The rules' view of each text as model features: its score, its negative and positive parts, and one
    column per support signal."""
    rows = []
    for text in texts:
        result = score_text(text)
        signals = set(result.signals)
        rows.append(
            [result.score, min(result.score, 0.0), max(result.score, 0.0)] + [float(s in signals) for s in _SIGNALS]
        )
    return sparse.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(rows), 3 + len(_SIGNALS)))


def build_pipeline(examples: int) -> Pipeline:
    """The untrained model: word 1–2-grams, character 2–5-grams within words, and the rules' features, into a
    logistic regression fitted by stochastic gradient descent (as good as the exact solver here, several times
    faster). Classes are weighted against their frequency, so a rare "negative" is still learnt."""
    min_df = 2 if examples >= 200 else 1  # on a few hundred examples a word seen once is mostly noise
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True, max_features=200_000)),
            (
                "characters",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), min_df=min_df, sublinear_tf=True, max_features=300_000
                ),
            ),
            ("rules", FunctionTransformer(rule_features, accept_sparse=True)),
        ]
    )
    classifier = SGDClassifier(loss="log_loss", alpha=2e-5, class_weight="balanced", random_state=0)
    return Pipeline([("features", features), ("classifier", classifier)])


@dataclass(frozen=True)
class SentimentModel:
    """A trained model and what it was trained on."""

    pipeline: Pipeline
    examples: dict[str, int]  # examples per label
    sources: dict[str, int]  # examples per source: the CSV file, `csat` comments
    trained_at: datetime
    model_id: str = ""  # `model@<hash of the saved file>`; empty until saved or loaded

    @property
    def classes(self) -> list[str]:
        return [str(label) for label in self.pipeline.classes_]

    def score(
        self, texts: Sequence[str], negative_below: float = -0.1, positive_above: float = 0.1
    ) -> list[MessageSentiment]:
        """Each text's sentiment by the model: score P(positive) − P(negative), the likeliest label, and the
        rules' reasons and signals with the model's own certainty added."""
        if not texts:
            return []
        probabilities = self.pipeline.predict_proba(list(texts))
        classes = self.classes
        negative = classes.index(NEGATIVE)
        positive = classes.index(POSITIVE) if POSITIVE in classes else None
        results = []
        for text, row in zip(texts, probabilities, strict=True):
            rules = score_text(text, negative_below, positive_above)
            score = float(row[negative]) * -1 + (float(row[positive]) if positive is not None else 0.0)
            label = classes[int(np.argmax(row))]
            if label not in LABELS:  # defensive: a model only ever learns the canonical labels
                label = label_for(score, negative_below, positive_above)
            certainty = f"model: {row.max():.0%} {label}"
            reasons = (certainty, *(reason for reason in rules.reasons if label != "neutral"))
            results.append(MessageSentiment(round(score, 4), label, reasons[:4], rules.signals))
        return results


def train(texts: Sequence[str], labels: Sequence[str], sources: dict[str, int]) -> SentimentModel:
    """Fit a model on texts labelled negative, neutral or positive."""
    counts = Counter(labels)
    if not counts:
        raise SentimentModelError(
            "nothing to learn from: no labelled text was given (--csv FILE) and the store has no CSAT answer "
            "with a comment"
        )
    if NEGATIVE not in counts or len(counts) < 2:
        raise SentimentModelError(f"training needs negative examples and at least one other label; got {dict(counts)}")
    scarce = {label: n for label, n in counts.items() if n < MIN_EXAMPLES_PER_LABEL}
    if scarce:
        raise SentimentModelError(
            f"too few examples to learn from: {scarce} (at least {MIN_EXAMPLES_PER_LABEL} of each label); "
            "label more text or leave that label out"
        )
    pipeline = build_pipeline(len(texts))
    pipeline.fit(list(texts), list(labels))
    return SentimentModel(pipeline, dict(sorted(counts.items())), sources, datetime.now(UTC).replace(tzinfo=None))


def save(model: SentimentModel, path: Path) -> SentimentModel:
    """Write the model to ``path`` (a pickle); return it with its id."""
    data = pickle.dumps(
        {
            "format": MODEL_FORMAT,
            "scikit_learn": sklearn.__version__,
            "pipeline": model.pipeline,
            "examples": model.examples,
            "sources": model.sources,
            "trained_at": model.trained_at,
        },
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)  # a half-written model must never be loaded
    return SentimentModel(model.pipeline, model.examples, model.sources, model.trained_at, _model_id(data))


def load(path: Path) -> SentimentModel | None:
    """The model saved at ``path``, or None when there is none.

    The file is a pickle: deskpulse loads only the one `deskpulse sentiment train` wrote next to your store."""
    if not path.is_file():
        return None
    data = path.read_bytes()
    try:
        saved = pickle.loads(data)  # only ever the file `save` wrote beside the store
    except Exception as exc:  # a pickle can fail in many ways; each means the same to the user
        raise SentimentModelError(
            f"{path}: cannot read the sentiment model ({exc}); train it again with `deskpulse sentiment train`"
        ) from exc
    if not isinstance(saved, dict) or saved.get("format") != MODEL_FORMAT:
        raise SentimentModelError(
            f"{path}: not a deskpulse sentiment model; train one with `deskpulse sentiment train`"
        )
    if saved["scikit_learn"] != sklearn.__version__:
        raise SentimentModelError(
            f"{path} was trained with scikit-learn {saved['scikit_learn']}, this is {sklearn.__version__}: "
            "train it again with `deskpulse sentiment train`"
        )
    return SentimentModel(saved["pipeline"], saved["examples"], saved["sources"], saved["trained_at"], _model_id(data))


def _model_id(data: bytes) -> str:
    return "model@" + hashlib.sha1(data).hexdigest()[:8]


# --- evaluation ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of the negative class, with the counts behind them."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int

    @classmethod
    def of(cls, gold: Sequence[bool], predicted: Sequence[bool]) -> Scores:
        tp = sum(g and p for g, p in zip(gold, predicted, strict=True))
        fp = sum(p and not g for g, p in zip(gold, predicted, strict=True))
        fn = sum(g and not p for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(round(precision, 4), round(recall, 4), round(f1, 4), tp, fp, fn)

    def as_json(self) -> dict[str, Any]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
        }


def evaluate_rules(texts: Sequence[str], gold_negative: Sequence[bool], negative_below: float = -0.1) -> Scores:
    """The default scorer, untrained: negative when the rules' score is below ``negative_below``."""
    return Scores.of(gold_negative, [score_text(text).score < negative_below for text in texts])


def cross_validate(texts: Sequence[str], labels: Sequence[str], folds: int = 5, seed: int = 0) -> Scores:
    """Negative-class scores of the model `train` builds, by stratified k-fold cross-validation: each text is
    predicted by a model that never saw it, and the predictions of all folds are pooled."""
    counts = Counter(labels)
    if NEGATIVE not in counts or min(counts.values()) < folds:
        raise SentimentModelError(
            f"cross-validation with {folds} folds needs at least {folds} examples of every label, "
            f"negative included; got {dict(counts)}"
        )
    text_array = np.asarray(texts, dtype=object)
    label_array = np.asarray(labels, dtype=object)
    predicted = np.empty(len(labels), dtype=object)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in splitter.split(text_array, label_array):
        pipeline = build_pipeline(len(train_index))
        pipeline.fit(list(text_array[train_index]), list(label_array[train_index]))
        predicted[test_index] = pipeline.predict(list(text_array[test_index]))
    return Scores.of([label == NEGATIVE for label in labels], [label == NEGATIVE for label in predicted])


def evaluate_file(
    path: Path,
    text_column: str,
    label_column: str,
    negative: str,
    *,
    folds: int = 5,
    settings: SentimentConfig | None = None,
) -> dict[str, Any]:
    """`deskpulse sentiment evaluate`: the rules, the model by cross-validation and the always-negative floor on
    any labelled CSV. Every label other than ``negative`` is a class of its own for the model and "not negative"
    for the scores."""
    from deskpulse.insight.sentiment_data import read_labelled_csv

    data = read_labelled_csv(path, text_column, label_column)
    gold = [label == negative for label in data.labels]
    if not any(gold):
        found = ", ".join(sorted(set(data.labels))[:10])
        raise SentimentModelError(f"{path}: no line is labelled {negative!r} in column {label_column!r} ({found})")
    negative_below = settings.negative_below if settings is not None else -0.1
    classes = [NEGATIVE if label == negative else f"other:{label}" for label in data.labels]
    return {
        "data": str(path),
        "examples": len(data.texts),
        "negatives": sum(gold),
        "skipped": data.skipped,
        "folds": folds,
        "rules": evaluate_rules(data.texts, gold, negative_below).as_json(),
        "model": cross_validate(data.texts, classes, folds).as_json(),
        "always_negative": Scores.of(gold, [True] * len(gold)).as_json(),
    }
