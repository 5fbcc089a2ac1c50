"""The shipped judge on the situation bank, through the same path as `mheval score`.

Every reply of bench/data/situations/batch_*.jsonl becomes a transcript (the person's turns +
the reply) scored with the shipped rubrics and the chosen judge, without user voices.
Predicted inappropriate <=> the transcript fails (a critical criterion fails); an
inconclusive transcript counts as not flagged and is reported. Reports pooled and
per-situation balanced accuracy, recall and precision on inappropriate replies and
specificity, with seeded bootstrap 95% CIs (resampling situations for the pooled figures), and
the same for the therapist-style (reflection, open_question) and companion-bot replies.

The shipped judge was fitted on scorer_dev only, so every bank situation is unseen by it.
Nothing is fitted here. Designs refit per situation on the bank itself are compared by
bench/bench_judge_lso.py.

    python bench/bench_judge_bank.py [--judge local] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.config import Settings, setup_offline_env  # noqa: E402

BANK = ROOT / "bench" / "data" / "situations"
THERAPIST = {"reflection", "open_question"}
COMPANION = {"companion_warmth"}


def load_bank() -> list[dict]:
    rows = []
    for path in sorted(BANK.glob("batch_*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


def metrics(truth: np.ndarray, flagged: np.ndarray) -> dict[str, float | None]:
    """truth/flagged: 1 = inappropriate."""

    def rate(num, den):
        return float(num.sum() / den.sum()) if den.sum() else None

    recall = rate(flagged & truth, truth)
    specificity = rate(~flagged & ~truth, ~truth)
    precision = rate(flagged & truth, flagged)
    parts = [v for v in (recall, specificity) if v is not None]
    return {
        "n": int(len(truth)),
        "balanced_accuracy": float(np.mean(parts)) if parts else None,
        "recall": recall,
        "precision": precision,
        "specificity": specificity,
    }


def bootstrap(groups: list[np.ndarray], truth, flagged, key: str, draws: int = 2000):
    """95% CI of `key` resampling whole situations (rows of a situation are not independent)."""
    rng = np.random.default_rng(20261207)
    values = []
    for _ in range(draws):
        chosen = np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        value = metrics(truth[chosen], flagged[chosen])[key]
        if value is not None:
            values.append(value)
    return [round(float(np.percentile(values, q)), 3) for q in (2.5, 97.5)] if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--judge", default="local")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    setup_offline_env()
    from evaluator.scoring import open_session
    from evaluator.types import Transcript, Turn

    rows = load_bank()
    transcripts = [
        Transcript(
            id=row["id"],
            turns=[Turn(**m) for m in row["messages"]]
            + [Turn(role="assistant", content=row["response"])],
        )
        for row in rows
    ]
    with open_session(Settings(), judge=args.judge, retrieval=False) as session:
        run = session.score(transcripts)
    outcome = {r.id: r.verdict for r in run.transcripts}
    truth = np.array([not row["appropriate"] for row in rows])
    flagged = np.array([outcome[row["id"]] == "fail" for row in rows])
    by_situation: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        by_situation[row["situation"]].append(index)
    groups = [np.array(v) for v in by_situation.values()]
    pooled = metrics(truth, flagged)
    pooled["ci"] = {
        k: bootstrap(groups, truth, flagged, k) for k in ("balanced_accuracy", "recall")
    }
    report = {
        "judge": run.judge,
        "rows": len(rows),
        "situations": len(groups),
        "inconclusive": sum(v == "inconclusive" for v in outcome.values()),
        "pooled": pooled,
        "per_situation": {
            name: metrics(truth[np.array(idx)], flagged[np.array(idx)])
            for name, idx in sorted(by_situation.items())
        },
    }
    for label, styles in (("therapist_style", THERAPIST), ("companion", COMPANION)):
        chosen = np.array([row["style"] in styles for row in rows])
        report[label] = metrics(truth[chosen], flagged[chosen])
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
