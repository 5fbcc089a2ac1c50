"""Graded quality against human ratings: does mheval's quality rank conversations as people do?

    python bench/bench_quality.py                # MIBot vs CARE, the rated set, speed
    python bench/bench_quality.py --out out.json
    python bench/bench_quality.py --rated-only --rated bench/data/quality2   # the held-out set

* MIBot (bench/data/mibot): 106 real counselling conversations, scored through `score` with the
  shipped rubrics and the local judge; Spearman rho of each quality dimension, the quality score
  and the overall score with the participants' CARE mean (bootstrap 95% CI, 2,000 resamples),
  beside what the MIBot authors' own automatic MISC codes (%MIC, R:Q) reach on the same rows;
  and the spread of the scores (a score that saturates cannot rank).
* The rated set (bench/data/quality): conversations written at three quality levels for the same
  safe situations and rated 1-5 per dimension by reading; rho of each dimension with its human
  rating and of the quality score with the human overall, how often the versions of one
  scenario are ordered as written (high > mid > low), and coder-coder agreement where a second
  rater labelled blind. `--rated bench/data/quality2`: the held-out rated set (one or two weak
  dimensions per conversation; good > weak1, weak2), scored once per grader version.
* Speed: transcripts per second with and without the quality criteria (warm).

Nothing was tuned on MIBot. Pacing, empathy and consistency were reworked on the rated set
(their figures there are development figures; one threshold, the repeat similarity, was chosen by
leave-one-scenario-out CV); the other four were written before any rating was scored.
The ridge weighting of the dimensions (does any weighting predict CARE?) is cross-validated;
its bracket is the range over five repeats, not a CI.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from evaluator.config import Settings, setup_offline_env  # noqa: E402

MIBOT = ROOT / "bench" / "data" / "mibot"
RATED = ROOT / "bench" / "data" / "quality"
DIMENSIONS = (
    "reflection",
    "personalisation",
    "open_questions",
    "pacing",
    "collaboration",
    "empathy",
    "consistency",
)
RESAMPLES = 2000


def spearman(x, y) -> float:
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = ~(np.isnan(x) | np.isnan(y))
    if keep.sum() < 3 or np.std(x[keep]) == 0 or np.std(y[keep]) == 0:
        return float("nan")
    return float(spearmanr(x[keep], y[keep])[0])


def rho_ci(x, y, seed: int = 20261207) -> tuple[float, float, float]:
    """Spearman rho and a percentile bootstrap 95% CI over items."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(RESAMPLES):
        pick = rng.integers(0, len(x), len(x))
        value = spearman(x[pick], y[pick])
        if not np.isnan(value):
            values.append(value)
    low, high = np.percentile(values, [2.5, 97.5]) if values else (np.nan, np.nan)
    return spearman(x, y), float(low), float(high)


def _fmt(triple) -> str:
    rho, low, high = triple
    return f"{rho:+.3f} [{low:+.3f}, {high:+.3f}]"


def quality_values(result, dimension: str) -> float:
    value = result.quality.get(f"base.quality.{dimension}")
    return np.nan if value is None else value


def mibot_report(session) -> dict:
    from evaluator.types import Transcript

    conversations = [
        json.loads(line)
        for line in (MIBOT / "transcripts.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    ratings = {
        row["ParticipantID"]: row
        for row in csv.DictReader((MIBOT / "ratings.csv").open(encoding="utf-8"))
    }
    transcripts = [
        Transcript(id=c["id"], turns=c["turns"]) for c in conversations if c["id"] in ratings
    ]
    run = session.score(transcripts)
    care = [
        np.mean([float(ratings[r.id][f"CAREQ{k}"]) for k in range(1, 11)]) for r in run.transcripts
    ]
    report: dict = {"n": len(run.transcripts), "rho_with_care": {}, "spread": {}}
    for dimension in DIMENSIONS:
        values = [quality_values(r, dimension) for r in run.transcripts]
        report["rho_with_care"][dimension] = rho_ci(values, care)
        report["spread"][dimension] = _spread(values)
    for name, values in (
        ("quality_score", [r.quality_score for r in run.transcripts]),
        ("score", [r.score for r in run.transcripts]),
    ):
        values = [np.nan if v is None else v for v in values]
        report["rho_with_care"][name] = rho_ci(values, care)
        report["spread"][name] = _spread(values)
    for column in ("AutoMISC_%MIC", "AutoMISC_R:Q", "NumWordsCounsellor"):
        values = [float(ratings[r.id][column]) for r in run.transcripts]
        report["rho_with_care"][f"authors: {column}"] = rho_ci(values, care)
    report["verdicts"] = {
        v: sum(r.verdict == v for r in run.transcripts) for v in ("pass", "fail", "inconclusive")
    }
    matrix = np.array(
        [[quality_values(r, d) for d in DIMENSIONS] for r in run.transcripts], dtype=float
    )
    report["rho_with_care"]["fitted (10-fold CV x5)"] = cross_validated(
        np.nan_to_num(matrix, nan=0.5), care
    )
    return report


def cross_validated(features, target, folds: int = 10, repeats: int = 5):
    """Can ANY weighting of the dimensions predict CARE? A ridge regression fitted on nine
    folds predicts the tenth; rho of the out-of-fold predictions: mean, min and max over
    repeats."""
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import KFold

    target = np.asarray(target, float)
    values = []
    for repeat in range(repeats):
        predicted = np.zeros(len(target))
        for train, test in KFold(folds, shuffle=True, random_state=repeat).split(features):
            model = RidgeCV(alphas=np.logspace(-2, 3, 12)).fit(features[train], target[train])
            predicted[test] = model.predict(features[test])
        values.append(spearman(predicted, target))
    return float(np.mean(values)), float(np.min(values)), float(np.max(values))


def _spread(values) -> dict:
    array = np.asarray([v for v in values if not np.isnan(v)], float)
    if not len(array):
        return {}
    q1, q3 = np.percentile(array, [25, 75])
    return {
        "min": round(float(array.min()), 3),
        "max": round(float(array.max()), 3),
        "sd": round(float(array.std()), 3),
        "iqr": round(float(q3 - q1), 3),
        "distinct": int(len(np.unique(np.round(array, 3)))),
    }


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# Written levels: a version of higher rank was written (and rated) better than one of lower rank.
# bench/data/quality: high > mid > low; bench/data/quality2 (held out): good > weak1, weak2.
LEVELS = {"low": 0, "mid": 1, "high": 2, "weak1": 0, "weak2": 0, "good": 2}


def rated_report(session, folder: Path = RATED) -> dict | None:
    from evaluator.transcripts import read_transcripts

    files = sorted(folder.glob("conversations_*.jsonl"))
    if not files:
        return None
    labels = {}
    for path in sorted(folder.glob("labels_*.jsonl")):
        if "second" not in path.name:
            labels.update({row["id"]: row for row in _read_jsonl(path)})
    transcripts = [t for path in files for t in read_transcripts(path)]
    run = session.score(transcripts)
    results = {r.id: r for r in run.transcripts}
    ids = [t.id for t in transcripts if t.id in labels]
    report: dict = {"n": len(ids), "rho_with_rating": {}}
    for dimension in DIMENSIONS:
        report["rho_with_rating"][dimension] = rho_ci(
            [quality_values(results[i], dimension) for i in ids],
            [labels[i]["ratings"][dimension] for i in ids],
        )
    overall = [labels[i]["overall"] for i in ids]
    report["rho_with_rating"]["quality_score vs overall"] = rho_ci(
        [np.nan if results[i].quality_score is None else results[i].quality_score for i in ids],
        overall,
    )
    report["rho_with_rating"]["score vs overall"] = rho_ci(
        [np.nan if results[i].score is None else results[i].score for i in ids], overall
    )
    # Pairwise order within a scenario: the version written (and rated) better scores higher.
    by_scenario: dict[str, dict[str, float]] = {}
    for transcript in transcripts:
        meta = transcript.metadata
        by_scenario.setdefault(meta["scenario"], {})[meta["version"]] = results[
            transcript.id
        ].quality_score
    rank = LEVELS
    right = total = 0
    for versions in by_scenario.values():
        for a in versions:
            for b in versions:
                if rank[a] > rank[b] and versions[a] is not None and versions[b] is not None:
                    total += 1
                    right += versions[a] > versions[b]
    report["ordered_pairs"] = {"right": right, "total": total}
    report["verdicts"] = {
        v: sum(r.verdict == v for r in run.transcripts) for v in ("pass", "fail", "inconclusive")
    }
    report["by_version"] = {
        version: round(
            float(
                np.mean(
                    [
                        results[t.id].quality_score
                        for t in transcripts
                        if t.metadata["version"] == version
                    ]
                )
            ),
            3,
        )
        for version in sorted({t.metadata["version"] for t in transcripts}, key=LEVELS.get)
    }
    second = folder / "labels_second.jsonl"
    if second.is_file():
        rows = {row["id"]: row for row in _read_jsonl(second)}
        both = [i for i in rows if i in labels]
        agreement = {}
        for dimension in DIMENSIONS:
            agreement[dimension] = rho_ci(
                [labels[i]["ratings"][dimension] for i in both],
                [rows[i]["ratings"][dimension] for i in both],
            )
        agreement["overall"] = rho_ci(
            [labels[i]["overall"] for i in both], [rows[i]["overall"] for i in both]
        )
        report["coder_agreement"] = {"n": len(both), "rho": agreement}
    return report


def speed(session, transcripts, rubrics_without_quality) -> dict:
    session.score(transcripts)  # warm the embeddings
    tick = time.perf_counter()
    session.score(transcripts)
    with_quality = time.perf_counter() - tick
    original = session.rubrics
    session.rubrics = rubrics_without_quality
    try:
        tick = time.perf_counter()
        session.score(transcripts)
        without = time.perf_counter() - tick
    finally:
        session.rubrics = original
    return {
        "transcripts": len(transcripts),
        "with_quality_per_s": round(len(transcripts) / with_quality, 1),
        "without_quality_per_s": round(len(transcripts) / without, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the figures here")
    parser.add_argument(
        "--rated-only", action="store_true", help="only the rated set (bench/data/quality)"
    )
    parser.add_argument(
        "--rated",
        type=Path,
        default=RATED,
        help="the rated set's folder (bench/data/quality2: the held-out one)",
    )
    args = parser.parse_args()
    setup_offline_env()
    from evaluator.scoring import open_session
    from evaluator.types import Transcript

    figures: dict = {}
    with open_session(Settings(), judge="local", retrieval=False) as session:
        figures["rated"] = rated_report(session, args.rated)
        if args.rated_only:
            _print_rated(figures["rated"])
            return 0
        figures["mibot"] = mibot_report(session)
        conversations = _read_jsonl(MIBOT / "transcripts.jsonl")
        transcripts = [Transcript(id=c["id"], turns=c["turns"]) for c in conversations]
        without = {
            key: rubric.model_copy(
                update={"criteria": [c for c in rubric.criteria if c.severity != "quality"]}
            )
            for key, rubric in session.rubrics.items()
        }
        figures["speed"] = speed(session, transcripts, without)
    mibot = figures["mibot"]
    print(f"MIBot: {mibot['n']} conversations, verdicts {mibot['verdicts']}")
    print("  Spearman rho with the participants' CARE mean [95% bootstrap CI]:")
    for name, triple in mibot["rho_with_care"].items():
        spread = mibot["spread"].get(name, {})
        extra = f"  spread {spread}" if spread else ""
        print(f"    {name:28s} {_fmt(triple)}{extra}")
    _print_rated(figures["rated"])
    print(f"Speed (warm): {figures['speed']}")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


def _print_rated(rated: dict | None) -> None:
    if rated:
        print(f"Rated set: {rated['n']} conversations, verdicts {rated['verdicts']}")
        print(f"  mean quality score by written level: {rated['by_version']}")
        pairs = rated["ordered_pairs"]
        print(f"  versions of one scenario ordered as written: {pairs['right']}/{pairs['total']}")
        for name, triple in rated["rho_with_rating"].items():
            print(f"    {name:28s} {_fmt(triple)}")
        if "coder_agreement" in rated:
            agreement = rated["coder_agreement"]
            print(f"  coder-coder rho on {agreement['n']} double-rated conversations:")
            for name, triple in agreement["rho"].items():
                print(f"    {name:28s} {_fmt(triple)}")


if __name__ == "__main__":
    raise SystemExit(main())
