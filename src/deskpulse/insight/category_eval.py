"""How well the category model does: stratified k-fold cross-validation (or a train and a test set), scored per
level of the hierarchy next to two baselines that tell whether the model earns its keep.

- *majority*: every ticket gets the most frequent class of the training folds.
- *keywords*: for each class, the ten words most associated with it in the training folds (largest χ² among the
  words more frequent in the class than elsewhere); a ticket gets the class with most of its keywords in the
  text, the most frequent class on a tie or when none occurs. This is what a hand-written keyword list would do
  at best, learned from the same data as the model, so the comparison is fair.

Nothing is tuned on a test fold: the model's settings are fixed, or (``tune=True``) chosen by an inner
cross-validation on the training folds alone.
"""

from __future__ import annotations

import csv
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deskpulse.errors import UserError
from deskpulse.insight.category_model import SGD_ALPHA, CategoryModel, remembered_embeddings
from deskpulse.insight.taxonomy import DEFAULT_THRESHOLD, category_name

KEYWORDS_PER_CLASS = 10
TUNING_ALPHAS = (1e-5, 2e-5, 5e-5, 1e-4)


@dataclass(frozen=True)
class LevelScores:
    """Scores of one level (1 = top) over the examples that have a category at that level."""

    level: int
    examples: int
    classes: int
    accuracy: float
    macro_f1: float
    majority_accuracy: float
    majority_macro_f1: float
    keyword_accuracy: float
    keyword_macro_f1: float
    coverage: float  # share of examples whose confidence at this level reached the threshold
    covered_accuracy: float | None  # accuracy on those


@dataclass
class Evaluation:
    examples: int
    folds: int  # 0: trained on one set, scored on another
    features: str
    threshold: float
    levels: list[LevelScores] = field(default_factory=list)
    rare_classes: list[str] = field(default_factory=list)  # top-level classes with fewer examples than folds
    tuned: bool = False  # the regularisation was chosen per fold by an inner cross-validation
    alphas: list[float] = field(default_factory=list)  # the regularisation used in each fold
    seconds: float = 0.0

    @property
    def accuracy(self) -> float:
        return self.levels[0].accuracy

    @property
    def macro_f1(self) -> float:
        return self.levels[0].macro_f1

    def as_json(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "examples": self.examples,
            "folds": self.folds,
            "features": self.features,
            "threshold": self.threshold,
            "levels": [asdict(level) for level in self.levels],
            "rare_classes": self.rare_classes,
            "tuned": self.tuned,
            "alphas": self.alphas,
            "seconds": round(self.seconds, 1),
        }


def read_labelled_csv(
    path: Path, text_columns: Sequence[str], level_columns: Sequence[str]
) -> tuple[list[str], list[tuple[str, ...]]]:
    """Texts and category paths of an outside dataset: the text columns joined by a line break, the level
    columns top first. A path stops at its first empty level; a row without a top level is left out."""
    texts: list[str] = []
    paths: list[tuple[str, ...]] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            for column in (*text_columns, *level_columns):
                if column not in header:
                    raise UserError(f"{path}:1: no column {column!r}; the columns are {', '.join(header)}")
            for row in reader:
                levels = []
                for column in level_columns:
                    value = " ".join((row[column] or "").split())
                    if not value:
                        break
                    levels.append(value.replace(">", "-"))  # ">" separates levels in deskpulse's category names
                if levels:
                    texts.append("\n".join(row[column] or "" for column in text_columns))
                    paths.append(tuple(levels))
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except csv.Error as exc:
        raise UserError(f"{path}: not valid CSV: {exc}") from exc
    if not texts:
        raise UserError(f"{path}: no row has a value in {level_columns[0]!r}")
    return texts, paths


def cross_validate(
    texts: Sequence[str],
    paths: Sequence[Sequence[str]],
    *,
    folds: int = 5,
    features: str = "tfidf",
    threshold: float = DEFAULT_THRESHOLD,
    tune: bool = False,
    seed: int = 0,
) -> Evaluation:
    """Stratified k-fold cross-validation, stratified on the top level."""
    from sklearn.model_selection import StratifiedKFold

    tops = [path[0] for path in paths]
    counts = Counter(tops)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # A class with fewer examples than folds cannot be in every fold; it is reported in `rare_classes`.
        warnings.simplefilter("ignore", UserWarning)
        splits = list(splitter.split(list(range(len(tops))), tops))
    evaluation = _evaluate(texts, paths, splits, features, threshold, tune)
    evaluation.folds = folds
    evaluation.rare_classes = sorted(name for name, count in counts.items() if count < folds)
    return evaluation


def train_and_test(
    train: tuple[Sequence[str], Sequence[Sequence[str]]],
    test: tuple[Sequence[str], Sequence[Sequence[str]]],
    *,
    features: str = "tfidf",
    threshold: float = DEFAULT_THRESHOLD,
    tune: bool = False,
) -> Evaluation:
    """Train on one set and score on another."""
    texts = [*train[0], *test[0]]
    paths = [*train[1], *test[1]]
    split = (list(range(len(train[0]))), list(range(len(train[0]), len(texts))))
    return _evaluate(texts, paths, [split], features, threshold, tune)


def _evaluate(
    texts: Sequence[str],
    paths: Sequence[Sequence[str]],
    splits: Sequence[tuple[Sequence[int], Sequence[int]]],
    features: str,
    threshold: float,
    tune: bool,
) -> Evaluation:
    started = time.perf_counter()
    depth = max(len(path) for path in paths)
    # Per level: the true class, the model's, its confidence and the baselines', for every scored example.
    truth: list[list[str]] = [[] for _ in range(depth)]
    model_guess: list[list[str]] = [[] for _ in range(depth)]
    confidence: list[list[float]] = [[] for _ in range(depth)]
    majority_guess: list[list[str]] = [[] for _ in range(depth)]
    keyword_guess: list[list[str]] = [[] for _ in range(depth)]
    alphas = []
    with remembered_embeddings():
        for train, test in splits:
            train_texts = [texts[i] for i in train]
            train_paths = [paths[i] for i in train]
            test_texts = [texts[i] for i in test]
            alpha = _tuned_alpha(train_texts, train_paths, features) if tune else SGD_ALPHA
            alphas.append(alpha)
            model = CategoryModel.fit(train_texts, train_paths, features, alpha=alpha)
            predictions = model.predict(test_texts)
            for level in range(depth):
                scored = [(n, i) for n, i in enumerate(test) if len(paths[i]) > level]
                if not scored:
                    continue
                trained = [(text, _at(path, level)) for text, path in zip(train_texts, train_paths, strict=True)]
                trained = [(text, label) for text, label in trained if label]
                majority = Counter(label for _, label in trained).most_common(1)[0][0]
                keywords = KeywordBaseline.fit([t for t, _ in trained], [label for _, label in trained])
                keyword_labels = keywords.predict([test_texts[n] for n, _ in scored])
                for (n, i), keyword_label in zip(scored, keyword_labels, strict=True):
                    prediction = predictions[n]
                    truth[level].append(_at(paths[i], level))
                    model_guess[level].append(_at(prediction.path, level))
                    confidence[level].append(
                        prediction.confidences[level] if len(prediction.confidences) > level else 0.0
                    )
                    majority_guess[level].append(majority)
                    keyword_guess[level].append(keyword_label)
    evaluation = Evaluation(len(texts), 0, features, threshold, tuned=tune, alphas=alphas)
    for level in range(depth):
        if truth[level]:
            guesses = (model_guess[level], confidence[level], majority_guess[level], keyword_guess[level])
            evaluation.levels.append(_scores(level + 1, truth[level], *guesses, threshold))
    evaluation.seconds = time.perf_counter() - started
    return evaluation


def _tuned_alpha(texts: Sequence[str], paths: Sequence[Sequence[str]], features: str) -> float:
    """The regularisation with the best top-level macro-F1 in a 3-fold cross-validation of the training folds."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    tops = [path[0] for path in paths]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        inner = list(StratifiedKFold(n_splits=3, shuffle=True, random_state=1).split(list(range(len(tops))), tops))
    best = (-1.0, SGD_ALPHA)
    for alpha in TUNING_ALPHAS:
        guesses: list[str] = []
        truths: list[str] = []
        for train, test in inner:
            model = CategoryModel.fit([texts[i] for i in train], [paths[i] for i in train], features, alpha=alpha)
            guesses += [_at(p.path, 0) for p in model.predict([texts[i] for i in test])]
            truths += [tops[i] for i in test]
        score = float(f1_score(truths, guesses, average="macro", labels=sorted(set(truths)), zero_division=0))
        if score > best[0]:
            best = (score, alpha)
    return best[1]


def _at(path: Sequence[str], level: int) -> str:
    """The class of ``path`` at ``level`` (its full name); "" when the path stops above it."""
    return category_name(path[: level + 1]) if len(path) > level else ""


def _scores(
    level: int,
    truth: list[str],
    model: list[str],
    confidence: list[float],
    majority: list[str],
    keywords: list[str],
    threshold: float,
) -> LevelScores:
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(truth))  # macro-F1 averages over the classes present in the evaluated data

    def f1(guess: list[str]) -> float:
        return round(float(f1_score(truth, guess, labels=labels, average="macro", zero_division=0)), 4)

    def accuracy(guess: list[str]) -> float:
        return round(float(accuracy_score(truth, guess)), 4)

    covered = [(t, g) for t, g, c in zip(truth, model, confidence, strict=True) if c >= threshold]
    covered_accuracy = round(sum(t == g for t, g in covered) / len(covered), 4) if covered else None
    return LevelScores(
        level=level,
        examples=len(truth),
        classes=len(labels),
        accuracy=accuracy(model),
        macro_f1=f1(model),
        majority_accuracy=accuracy(majority),
        majority_macro_f1=f1(majority),
        keyword_accuracy=accuracy(keywords),
        keyword_macro_f1=f1(keywords),
        coverage=round(len(covered) / len(truth), 4),
        covered_accuracy=covered_accuracy,
    )


@dataclass
class KeywordBaseline:
    """A keyword list per class, learned by χ²; the class with most keywords in a text wins."""

    vectorizer: Any
    classes: list[str]
    keyword_matrix: Any  # words × classes, 1 where the word is one of the class's keywords
    tie_break: Any  # a tiny bonus per class, by its frequency: ties and texts without keywords go to the common

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str]) -> KeywordBaseline:
        import numpy as np
        import scipy.sparse
        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.feature_selection import chi2

        vectorizer = CountVectorizer(binary=True, min_df=2)
        try:
            words = vectorizer.fit_transform(texts)
        except ValueError:  # no word occurs twice: no keywords, every ticket goes to the most frequent class
            vectorizer = CountVectorizer(binary=True)
            words = vectorizer.fit_transform([*texts, "placeholder"])[: len(texts)]
        classes = sorted(set(labels))
        label_array = np.asarray(labels, dtype=object)
        document_frequency = np.asarray(words.sum(axis=0)).ravel()
        rows, columns = [], []
        for number, name in enumerate(classes):
            in_class = label_array == name
            scores, _ = chi2(words, in_class)
            in_class_frequency = np.asarray(words[in_class].sum(axis=0)).ravel()
            # Only words that say "this class": more frequent inside it than their overall rate would give.
            positive = in_class_frequency > document_frequency * in_class.mean()
            scores = np.where(positive & np.isfinite(scores), scores, -1.0)
            top = [index for index in np.argsort(-scores)[:KEYWORDS_PER_CLASS] if scores[index] > 0]
            rows += top
            columns += [number] * len(top)
        matrix = scipy.sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(words.shape[1], len(classes)))
        counts = Counter(labels)
        tie_break = np.array([counts[name] for name in classes], dtype=float) / (len(labels) + 1) * 1e-3
        return cls(vectorizer, classes, matrix, tie_break)

    def predict(self, texts: Sequence[str]) -> list[str]:
        import numpy as np

        hits = np.asarray((self.vectorizer.transform(texts) @ self.keyword_matrix).todense()) + self.tie_break
        return [self.classes[index] for index in hits.argmax(axis=1)]
