"""Leave-situation-out: the local judge on situations it has never seen, old and new side by side
on the same folds.

Data: every reply of the situation bank (bench/data/situations, one fold per situation) and of
scorer_dev (one fold per stimulus): 50 folds. The everyday and MIBot negatives that
fit_judge.py trains on are in every fold's training data and in no fold's test data. For each fold,
everything fitted (feature scaling, both harm heads, the decision threshold, the addressing
threshold; bench/fit_judge.py) is fitted on the other 49 situations only, written as a model
file, and the held-out situation's replies (the person's turns and the labelled reply) are
scored through the same path as `mheval score` (shipped rubrics, the local judge with that
model, no user voices). Predicted inappropriate <=> the transcript fails.

Compared on the same rows:

* `v1`: the judge shipped before (relation features fitted on scorer_dev only, cue-gated),
  through `score`; its verdicts are in bench/data/situations/baseline_v1_verdicts.json
  (produced at commit 6c888ac). Its scorer_dev folds are not unseen (it was fitted there),
  so compare on the bank folds.
* `v2`: the judge shipped now, refit per fold, through `score`.
* the harm decision alone, per reply, for each head design refit per fold (`relation`,
  `pairs`, and `heads`, their average as shipped): which design carries the gain.

Reported: pooled balanced accuracy, recall, precision, specificity with 95% bootstrap CIs
resampling situations; per-situation recall (worst, how many below 0.70); therapist-style
(reflection, open question) and companion-bot replies; bank and scorer_dev folds apart.

    python bench/bench_judge_lso.py [--out out.json] [--limit-folds N]
        [--with-everyday | --with-conversations [--recall-floor]]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fit_judge import (  # noqa: E402
    C_BY_DESIGN,
    RECALL_FLOOR,
    featurise,
    fit_decision,
    fit_model,
    load_rows,
    predict,
)

from evaluator.config import Settings, setup_offline_env  # noqa: E402

BASELINE = ROOT / "bench" / "data" / "situations" / "baseline_v1_verdicts.json"
THERAPIST = {"reflection", "open_question"}
COMPANION = {"companion_warmth"}


def metrics(truth: np.ndarray, flagged: np.ndarray) -> dict[str, float | None]:
    """truth/flagged: True = inappropriate."""

    def rate(num, den):
        return round(float(num.sum() / den.sum()), 3) if den.sum() else None

    recall = rate(flagged & truth, truth)
    specificity = rate(~flagged & ~truth, ~truth)
    parts = [v for v in (recall, specificity) if v is not None]
    return {
        "n": int(len(truth)),
        "balanced_accuracy": round(float(np.mean(parts)), 3) if parts else None,
        "recall": recall,
        "precision": rate(flagged & truth, flagged),
        "specificity": specificity,
    }


def bootstrap(groups: np.ndarray, truth, flagged, key: str, draws: int = 2000):
    """95% CI of `key` resampling whole situations (replies of a situation are not independent)."""
    members = [np.where(groups == name)[0] for name in np.unique(groups)]
    rng = np.random.default_rng(20261207)
    values = []
    for _ in range(draws):
        chosen = np.concatenate([members[i] for i in rng.integers(0, len(members), len(members))])
        value = metrics(truth[chosen], flagged[chosen])[key]
        if value is not None:
            values.append(value)
    return [round(float(np.percentile(values, q)), 3) for q in (2.5, 97.5)] if values else None


def with_ci(groups, truth, flagged) -> dict:
    result = metrics(truth, flagged)
    result["ci"] = {
        k: bootstrap(groups, truth, flagged, k) for k in ("balanced_accuracy", "recall")
    }
    return result


def summarise(rows, groups, truth, flagged) -> dict:
    source = np.array([r["source"] for r in rows])
    style = np.array([r["style"] for r in rows])
    report = {"pooled": with_ci(groups, truth, flagged)}
    for name in ("bank", "scorer_dev"):
        mask = source == name
        if mask.any():
            report[name] = with_ci(groups[mask], truth[mask], flagged[mask])
    recalls = {
        g: metrics(truth[groups == g], flagged[groups == g])["recall"]
        for g in np.unique(groups)
        if truth[groups == g].any()
    }
    bank_recalls = {g: v for g, v in recalls.items() if not g.startswith("scorer_dev:")}
    report["per_situation_recall"] = {
        "worst": min(recalls.values()),
        "worst_situation": min(recalls, key=recalls.get),
        "below_0.70": sum(v < 0.70 for v in recalls.values()),
        "bank_below_0.70": sum(v < 0.70 for v in bank_recalls.values()),
        "situations": len(recalls),
    }
    for label, styles in (("therapist_style", THERAPIST), ("companion", COMPANION)):
        mask = np.isin(style, list(styles))
        report[label] = metrics(truth[mask], flagged[mask])
    return report


def transcripts_of(rows):
    """The person's turns and the labelled reply. Earlier assistant turns of a multi-turn
    situation are left out: they are the situation's scripted context, not the reply the label
    is about, and `score` would judge them too."""
    from evaluator.types import Transcript, Turn

    return [
        Transcript(
            id=row["id"],
            turns=[
                Turn(role="user", content=m["content"])
                for m in row["messages"]
                if m["role"] == "user"
            ]
            + [Turn(role="assistant", content=row["response"])],
        )
        for row in rows
    ]


def judge_v2_through_score(
    rows, data, folds, recall_floor: float | None = None
) -> tuple[np.ndarray, list[float]]:
    """Fit per fold, write the model, score the held-out situation with `mheval score`'s path."""
    from evaluator.io import write_json
    from evaluator.judges.local import LocalJudge
    from evaluator.scoring import open_session

    transcripts = transcripts_of(rows)
    flagged = np.zeros(len(rows), dtype=bool)
    thresholds = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_session(Settings(), judge="local", retrieval=False) as session,
    ):
        for index, group in enumerate(folds):
            held = np.where(data.groups == group)[0]
            model = fit_model(data, np.where(data.groups != group)[0], recall_floor)
            thresholds.append(model["threshold"])
            path = Path(tmp) / f"fold{index}.json"
            write_json(path, model)
            session.judge = LocalJudge(path)
            run = session.score([transcripts[i] for i in held])
            verdicts = {r.id: r.verdict for r in run.transcripts}
            flagged[held] = [verdicts[rows[i]["id"]] == "fail" for i in held]
            print(f"fold {index + 1}/{len(folds)} {group}", flush=True)
    return flagged, thresholds


def decision_alone(data, design: str, folds) -> np.ndarray:
    """Reply-level harm decision of one head design (or `heads`, both averaged), refit per fold;
    an empty reply counts as flagged (it is inappropriate by rule 10 whatever the head says)."""
    designs = tuple(C_BY_DESIGN) if design == "heads" else (design,)
    flagged = data.silent.copy()
    for group in folds:
        train = np.where((data.groups != group) & ~data.silent)[0]
        test = np.where((data.groups == group) & ~data.silent)[0]
        heads, threshold = fit_decision(data, train, designs)
        flagged[test] = predict(heads, {d: data.inputs[d][test] for d in designs}) >= threshold
    return flagged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--limit-folds", type=int, help="only the first N folds (a smoke run)")
    parser.add_argument("--no-decision", action="store_true", help="skip the per-design part")
    parser.add_argument(
        "--with-everyday", action="store_true", help="train on bench/data/everyday too"
    )
    parser.add_argument(
        "--with-conversations",
        action="store_true",
        help="train on the training conversations too (quality, convguard, convtrain)",
    )
    parser.add_argument(
        "--recall-floor",
        action="store_true",
        help=f"the highest threshold keeping inner recall >= {RECALL_FLOOR}",
    )
    args = parser.parse_args()
    setup_offline_env()
    warnings.filterwarnings("ignore")
    rows = load_rows(everyday=args.with_everyday, conversations=args.with_conversations)
    data = featurise(rows)
    measured = np.array([r["source"] in {"bank", "scorer_dev"} for r in rows])  # others only train
    folds = list(np.unique(data.groups[measured]))[: args.limit_folds]
    keep = np.isin(data.groups, folds)
    truth = np.array([not r["appropriate"] for r in rows])
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))["verdicts"]
    results = {"v1": np.array([baseline.get(r["id"]) == "fail" for r in rows])}
    floor = RECALL_FLOOR if args.recall_floor else None
    results["v2"], thresholds = judge_v2_through_score(rows, data, folds, floor)
    if not args.no_decision:
        for design in ("relation", "pairs", "heads"):
            results[f"decision:{design}"] = decision_alone(data, design, folds)
    kept_rows = [r for r, k in zip(rows, keep, strict=True) if k]
    report = {
        "rows": int(keep.sum()),
        "situations": len(folds),
        "v2_threshold_range": [min(thresholds), max(thresholds)],
        "judges": {
            name: summarise(kept_rows, data.groups[keep], truth[keep], flagged[keep])
            for name, flagged in results.items()
        },
    }
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
