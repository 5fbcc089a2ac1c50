"""The shared agreement metrics, against scikit-learn on random labels and by hand."""

from __future__ import annotations

import random

import pytest

from evaluator.metrics import Counts, accuracy, binary_counts, cohen_kappa, confusion_matrix


def test_kappa_and_confusion_by_hand():
    gold = ["pass", "pass", "fail", "fail", "pass", "fail"]
    pred = ["pass", "fail", "fail", "fail", "pass", "pass"]
    assert confusion_matrix(gold, pred, ["fail", "pass"]) == [[2, 1], [1, 2]]
    assert accuracy(gold, pred) == pytest.approx(4 / 6)
    # observed 4/6, chance 1/2: (2/3 - 1/2) / (1 - 1/2)
    assert cohen_kappa(gold, pred) == pytest.approx(1 / 3)


def test_undefined_kappa_is_none():
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["pass", "pass"], ["pass", "pass"]) is None
    assert accuracy([], []) is None


def test_counts_and_micro_sum():
    counts = binary_counts([True, True, False, False], [True, False, True, False])
    assert counts == Counts(tp=1, fp=1, fn=1)
    assert (counts.precision, counts.recall, counts.f1) == (0.5, 0.5, 0.5)
    assert Counts().f1 == Counts().precision == Counts().recall == 0.0
    assert (counts + Counts(tp=1)).f1 == pytest.approx(4 / 6)


@pytest.mark.parametrize("seed", range(20))
def test_same_numbers_as_scikit_learn(seed):
    from sklearn.metrics import cohen_kappa_score, f1_score, precision_score, recall_score
    from sklearn.metrics import confusion_matrix as sk_confusion

    rng = random.Random(seed)
    labels = ["fail", "partial", "pass"]
    n = rng.randint(2, 40)
    gold = [rng.choice(labels) for _ in range(n)]
    pred = [rng.choice(labels) if rng.random() < 0.6 else g for g in gold]
    assert confusion_matrix(gold, pred, labels) == sk_confusion(gold, pred, labels=labels).tolist()
    if len(set(gold) | set(pred)) > 1:
        expected = cohen_kappa_score(gold, pred, labels=labels)
        assert cohen_kappa(gold, pred, labels) == pytest.approx(expected)
        quadratic = cohen_kappa_score(gold, pred, labels=labels, weights="quadratic")
        assert cohen_kappa(gold, pred, labels, weights="quadratic") == pytest.approx(quadratic)
    g, p = [x == "pass" for x in gold], [x == "pass" for x in pred]
    counts = binary_counts(g, p)
    assert counts.precision == pytest.approx(precision_score(g, p, zero_division=0))
    assert counts.recall == pytest.approx(recall_score(g, p, zero_division=0))
    assert counts.f1 == pytest.approx(f1_score(g, p, zero_division=0))
