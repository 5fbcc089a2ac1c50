"""Leave-situation-out: two designs of the local judge's "does this reply do harm here" decision,
refit per fold on the same folds.

Data: every reply of the situation bank (bench/data/situations/batch_*.jsonl, one fold per
situation) and of scorer_dev (bench/data/scorer_dev/responses.jsonl, one fold per stimulus).
For each fold, everything fitted (feature scaling, the logistic model, its decision threshold
chosen by an inner 3-fold split over the training situations) is fitted on the other
situations only; the held-out situation's replies are never seen. Each situation weighs the
same in training (scorer_dev's 175 replies per stimulus would otherwise swamp the bank).

Designs (both predict "inappropriate for a reason other than silence"; an empty reply is
inappropriate in both, by rule 10):

* `old`: the shipped judge's 18 relation features (reply vs request: similarity, on-task
  share, lists, specifics, refusal, caveat, reality-testing and other cue counts), refit;
* `pairs`: a head over frozen MiniLM embeddings of the (context, reply) pair -- the reply,
  reply x last request, reply x every user turn, the context -- plus the same 18 features and
  the user-side cue flags.

Reported: pooled balanced accuracy, recall and precision on inappropriate replies and
specificity, with 95% bootstrap CIs resampling situations; per-situation recall (worst and
how many below 0.70); the same for therapist-style (reflection, open question) and
companion-bot replies; bank folds and scorer_dev folds apart. This is a reply-level
measurement of the decision; the shipped judge through `mheval score` is measured by
bench/bench_judge_bank.py.

    python bench/bench_judge_lso.py [--designs old,pairs] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_judge_bank import COMPANION, THERAPIST, bootstrap, load_bank, metrics  # noqa: E402

from evaluator.config import setup_offline_env  # noqa: E402

SCORER_DEV = ROOT / "bench" / "data" / "scorer_dev" / "responses.jsonl"
# Regularisation is fixed per design, not searched; see BENCHMARKS.md for how `pairs` was chosen.
C_BY_DESIGN = {"old": 1.0, "pairs": 0.01}


def load_rows() -> list[dict]:
    rows = [{**row, "group": row["situation"], "source": "bank"} for row in load_bank()]
    for line in SCORER_DEV.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        silent = not row["response"].strip()
        violates = [] if row["appropriate"] else ["base.engagement.responds" if silent else "x"]
        rows.append(
            {
                **row,
                "group": "scorer_dev:" + row["stimulus"],
                "source": "scorer_dev",
                "violates": violates,
                "style": "?",
            }
        )
    return rows


def featurise(rows: list[dict]) -> dict[str, np.ndarray]:
    from evaluator.judges.behaviours import (
        FEATURE_NAMES,
        SELF_HARM_CONTEXT,
        FeatureExtractor,
        split_sentences,
    )

    extractor = FeatureExtractor()
    embed = extractor._embedder.encode
    extractor.warm(
        [m["content"] for r in rows for m in r["messages"]] + [r["response"] for r in rows]
    )

    def pooled(texts: list[str]) -> np.ndarray:
        sentences = [s for text in texts for s in split_sentences(text)]
        if not sentences:
            return np.zeros(384, dtype="float32")
        vector = embed(sentences).mean(axis=0)
        return vector / (np.linalg.norm(vector) + 1e-9)

    relation, request, context, reply, flags = [], [], [], [], []
    for row in rows:
        users = [m["content"] for m in row["messages"] if m["role"] == "user"]
        exchange = extractor.exchange(users[-1], row["response"], "\n".join(users[:-1]))
        relation.append([exchange.features[name] for name in FEATURE_NAMES])
        sim_user = exchange.sim_user if len(exchange.sim_user) else np.zeros(1)
        flags.append(
            [
                exchange.user_requests,
                exchange.user_belief,
                exchange.symptom_driven,
                bool(SELF_HARM_CONTEXT.search("\n".join(users))),
                len(users) > 1,
                float(sim_user.max()),
                float(sim_user.mean()),
            ]
        )
        request.append(pooled(users[-1:]))
        context.append(pooled(users))
        reply.append(pooled([row["response"]]))
    relation, request, context, reply = map(np.array, (relation, request, context, reply))
    flags = np.array(flags, dtype=float)
    return {
        "old": relation,
        "pairs": np.hstack(
            [reply, reply * request * 20, reply * context * 20, context, relation, flags]
        ),
    }


def situation_weights(groups: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    weights = 1.0 / counts[inverse]
    return weights / weights.mean()


def fit(x, target, groups, c):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(scaler.transform(x), target, sample_weight=situation_weights(groups))
    return lambda rows: model.predict_proba(scaler.transform(rows))[:, 1]


def inner_threshold(x, target, groups, c, folds: int = 3) -> float:
    """The threshold maximising situation-weighted balanced accuracy on out-of-fold predictions
    over the training situations only."""
    names = np.unique(groups)
    np.random.default_rng(20261207).shuffle(names)
    oof = np.zeros(len(target))
    for k in range(folds):
        held = np.isin(groups, names[k::folds])
        oof[held] = fit(x[~held], target[~held], groups[~held], c)(x[held])
    weights = situation_weights(groups)
    best, chosen = -1.0, 0.5
    for threshold in np.linspace(0.1, 0.9, 33):
        flagged = oof >= threshold
        recall = (weights * (flagged & target)).sum() / (weights * target).sum()
        specificity = (weights * (~flagged & ~target)).sum() / (weights * ~target).sum()
        if (recall + specificity) / 2 > best:
            best, chosen = (recall + specificity) / 2, float(threshold)
    return chosen


def rounded(values: dict) -> dict:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()}


def with_ci(groups: np.ndarray, truth: np.ndarray, flagged: np.ndarray) -> dict:
    """Metrics plus bootstrap CIs resampling whole situations."""
    members = [np.where(groups == name)[0] for name in np.unique(groups)]
    result = rounded(metrics(truth, flagged))
    result["ci"] = {
        k: bootstrap(members, truth, flagged, k) for k in ("balanced_accuracy", "recall")
    }
    return result


def summarise(rows, groups, truth, flagged) -> dict:
    source = np.array([r["source"] for r in rows])
    style = np.array([r["style"] for r in rows])
    report = {"pooled": with_ci(groups, truth, flagged)}
    for name in ("bank", "scorer_dev"):
        mask = source == name
        report[name] = with_ci(groups[mask], truth[mask], flagged[mask])
    recalls = {
        g: round(metrics(truth[groups == g], flagged[groups == g])["recall"], 3)
        for g in np.unique(groups)
        if truth[groups == g].any()
    }
    report["per_situation_recall"] = {
        "worst": min(recalls.values()),
        "worst_situation": min(recalls, key=recalls.get),
        "below_0.70": sum(v < 0.70 for v in recalls.values()),
        "situations": len(recalls),
    }
    for label, styles in (("therapist_style", THERAPIST), ("companion", COMPANION)):
        mask = np.isin(style, list(styles))
        report[label] = rounded(metrics(truth[mask], flagged[mask]))
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", default="old,pairs")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    setup_offline_env()
    warnings.filterwarnings("ignore")
    rows = load_rows()
    designs = featurise(rows)
    groups = np.array([r["group"] for r in rows])
    truth = np.array([not r["appropriate"] for r in rows])
    silent = np.array([not r["response"].strip() for r in rows])
    only_silence = np.array([r["violates"] == ["base.engagement.responds"] for r in rows])
    target = truth & ~only_silence
    report = {"rows": len(rows), "situations": len(np.unique(groups)), "designs": {}}
    for name in args.designs.split(","):
        x, c = designs[name], C_BY_DESIGN[name]
        flagged = silent.copy()
        thresholds = []
        for group in np.unique(groups):
            test, train = groups == group, groups != group
            threshold = inner_threshold(x[train], target[train], groups[train], c)
            thresholds.append(threshold)
            probability = fit(x[train], target[train], groups[train], c)(x[test])
            flagged[test] |= probability >= threshold
        report["designs"][name] = summarise(rows, groups, truth, flagged)
        report["designs"][name]["threshold_range"] = [min(thresholds), max(thresholds)]
        print(name, json.dumps(report["designs"][name]["pooled"]), flush=True)
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
