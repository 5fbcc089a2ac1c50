"""Agreement metrics on label lists: confusion matrix, Cohen's kappa, precision/recall/F1.

One copy for the judge's agreement with people (`judges/agreement.py`), the annotator's with hand
labels (`mine/validate.py`) and the bench scripts. Plain Python: the inputs are hundreds of
labels, and importing scikit-learn would cost more than computing them.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Counts", "accuracy", "binary_counts", "cohen_kappa", "confusion_matrix"]


def confusion_matrix(
    gold: Sequence[Hashable], pred: Sequence[Hashable], labels: Sequence[Hashable]
) -> list[list[int]]:
    """Rows are gold labels, columns predicted ones, both in `labels` order; pairs with a label
    outside `labels` are left out."""
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, pred, strict=True):
        if g in index and p in index:
            matrix[index[g]][index[p]] += 1
    return matrix


def accuracy(gold: Sequence[Hashable], pred: Sequence[Hashable]) -> float | None:
    """Share of equal pairs; None for no pairs."""
    if not gold:
        return None
    return sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)


def cohen_kappa(
    gold: Sequence[Hashable],
    pred: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
    *,
    weights: Literal["quadratic"] | None = None,
) -> float | None:
    """Agreement beyond chance, 1 - sum(w * observed) / sum(w * expected); None when undefined
    (no pairs, or chance alone explains every pair, as when both sides use one class).

    `weights="quadratic"` penalises a disagreement by its squared distance in `labels` order
    (ordinal labels); otherwise every disagreement weighs 1."""
    if labels is None:
        labels = sorted(set(gold) | set(pred), key=str)
    matrix = confusion_matrix(gold, pred, labels)
    n = sum(map(sum, matrix))
    if not n:
        return None
    rows = [sum(row) for row in matrix]
    columns = [sum(column) for column in zip(*matrix, strict=True)]
    observed = expected = 0.0
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            weight = (i - j) ** 2 if weights == "quadratic" else float(i != j)
            observed += weight * count
            expected += weight * rows[i] * columns[j] / n
    return None if expected == 0 else 1 - observed / expected


@dataclass(frozen=True)
class Counts:
    """True positives, false positives and false negatives of one label (or summed over
    labels: `a + b`, for micro averages)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float:
        """0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """0 when nothing was to be found."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """0 when there are no true positives."""
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0


def binary_counts(gold: Sequence[bool], pred: Sequence[bool]) -> Counts:
    """Counts of one yes/no label over paired items."""
    pairs = list(zip(gold, pred, strict=True))
    return Counts(
        tp=sum(g and p for g, p in pairs),
        fp=sum(p and not g for g, p in pairs),
        fn=sum(g and not p for g, p in pairs),
    )
