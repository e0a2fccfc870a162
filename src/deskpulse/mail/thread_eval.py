"""Score a threading against a ground truth: parent-edge agreement and thread-partition agreement.

Pure functions over plain mappings (message key → parent key, message key → thread label), shared by the
corpus tests and `benchmarks/threading_agreement.py`. `compare` gives both figures at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PartitionAgreement:
    """Pairwise agreement on "these two messages are in the same thread", and whole threads reproduced."""

    precision: float  # of the pairs we put together, the share the truth puts together
    recall: float  # of the pairs the truth puts together, the share we put together
    f1: float
    exact_threads: float  # share of ground-truth threads whose message set we reproduce exactly
    truth_threads: int
    predicted_threads: int


@dataclass(frozen=True, slots=True)
class Agreement:
    """How one threading of a corpus compares with its ground truth."""

    messages: int  # messages of the ground truth that were scored
    parent_agreement: float
    partition: PartitionAgreement


def compare(
    truth: Mapping[str, str | None],
    predicted_parents: Mapping[str, str | None],
    predicted_threads: Mapping[str, Hashable],
) -> Agreement:
    """Score a predicted threading (parent and thread label of each message) on the messages of `truth`.

    Raises KeyError if a prediction lacks a message of `truth`.
    """
    return Agreement(
        messages=len(truth),
        parent_agreement=parent_agreement(truth, predicted_parents),
        partition=partition_agreement(threads_from_parents(truth), predicted_threads),
    )


def parent_agreement(truth: Mapping[str, str | None], predicted: Mapping[str, str | None]) -> float:
    """Share of ground-truth messages whose parent we name identically (a root's parent is None).

    Raises KeyError if `predicted` lacks a message of `truth`.
    """
    if not truth:
        return 1.0
    same = sum(1 for key, parent in truth.items() if predicted[key] == parent)
    return same / len(truth)


def parent_disagreements(
    truth: Mapping[str, str | None], predicted: Mapping[str, str | None]
) -> dict[str, tuple[str | None, str | None]]:
    """Every message whose parent differs: key → (truth parent, predicted parent)."""
    return {key: (parent, predicted[key]) for key, parent in truth.items() if predicted[key] != parent}


def _pairs(size: int) -> int:
    return size * (size - 1) // 2


def partition_agreement(truth: Mapping[str, Hashable], predicted: Mapping[str, Hashable]) -> PartitionAgreement:
    """Compare two partitions of the same messages (key → thread label), without enumerating pairs.

    Pairs together in both = Σ over (truth thread, predicted thread) cells of C(n, 2). When a side has no
    pair at all (every thread a single message), its precision or recall is 1.0: there is nothing to get
    wrong. Raises KeyError if `predicted` lacks a message of `truth`.
    """
    cells = Counter((truth[key], predicted[key]) for key in truth)
    truth_sizes = Counter(truth[key] for key in truth)
    predicted_sizes = Counter(predicted[key] for key in truth)
    together_in_both = sum(_pairs(size) for size in cells.values())
    truth_pairs = sum(_pairs(size) for size in truth_sizes.values())
    predicted_pairs = sum(_pairs(size) for size in predicted_sizes.values())
    precision = together_in_both / predicted_pairs if predicted_pairs else 1.0
    recall = together_in_both / truth_pairs if truth_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # A truth thread is reproduced exactly when one cell holds all of it and that predicted thread holds
    # nothing else.
    exact = sum(
        1
        for (truth_label, predicted_label), size in cells.items()
        if size == truth_sizes[truth_label] == predicted_sizes[predicted_label]
    )
    return PartitionAgreement(
        precision=precision,
        recall=recall,
        f1=f1,
        exact_threads=exact / len(truth_sizes) if truth_sizes else 1.0,
        truth_threads=len(truth_sizes),
        predicted_threads=len(predicted_sizes),
    )


def threads_from_parents(parents: Mapping[str, str | None]) -> dict[str, str]:
    """Thread label of every message in a parent map: the key of the root reached by following parents.

    Loops (which a ground truth should not have) are cut where they are found: the message that closes the
    loop is taken as its own root.
    """
    labels: dict[str, str] = {}
    for start in parents:
        path: list[str] = []
        seen: set[str] = set()
        node = start
        while node not in labels:
            seen.add(node)
            path.append(node)
            up = parents.get(node)
            if up is None or up in seen or up not in parents:
                labels[node] = node
                break
            node = up
        label = labels[node]
        for member in path:
            labels[member] = label
    return labels


def cap_depth(parents: Mapping[str, str | None], max_depth: int) -> dict[str, str | None]:
    """The parent map as an index that nests at most `max_depth` levels below a root would draw it.

    Archivers such as MHonArc (TLEVELS, 3 by default) list every deeper message at the deepest level, under
    its ancestor at depth `max_depth - 1`. Comparing our tree with such an index needs the same cut.
    """
    depth: dict[str, int] = {}
    for start in parents:
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in depth and node not in path:
            path.append(node)
            node = parents.get(node)
        base = -1 if node is None or node in path else depth[node]
        for member in reversed(path):
            base += 1
            depth[member] = base
    capped: dict[str, str | None] = {}
    for key, parent in parents.items():
        while parent is not None and depth[parent] >= max_depth:
            parent = parents[parent]
        capped[key] = parent
    return capped
