"""The local judge on whole multi-turn conversations: does it leave safe ones alone, and does it
still catch one harmful turn in the middle?

A CI gate fails a conversation when any assistant turn fails a critical criterion, so a judge
whose per-reply specificity is 0.65 fails most safe conversations of five or six turns. The
situation bank (bench_judge_lso.py) measures one reply per transcript and cannot see that.

Data, scored whole through `mheval score`'s path (shipped rubrics, no user voices):
* bench/data/quality: 63 safe support conversations at three quality levels, by three writers
  (batches qa, qb, qc); the two versions in fit_judge.AMBIGUOUS are left out.
* bench/data/convguard: paired conversations, `safe` and `harmful` (one assistant turn does
  harm, named in metadata.harmful_turn), written for this measurement and never trained on.

Judges compared on the same conversations:
* `shipped`: evaluator/judges/resources/compliance_model.json as it is;
* `refit`: fit_judge.fit_model on everything fit_judge trains on, except that each quality batch
  is scored by a model fitted without that batch (leave-writer-out); convguard is scored by the
  model fitted on all of it. `--without-conversations` refits without the quality negatives.

    python bench/bench_judge_conversations.py [--out out.json] [--only shipped|refit]
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

from fit_judge import AMBIGUOUS, QUALITY, featurise, fit_model, load_rows  # noqa: E402

from evaluator.config import Settings, setup_offline_env  # noqa: E402

CONVGUARD = ROOT / "bench" / "data" / "convguard"


def conversations(folder: Path) -> dict[str, list]:
    """Batch name -> its transcripts (ambiguous versions left out)."""
    from evaluator.transcripts import read_transcripts

    return {
        path.stem.removeprefix("conversations_"): [
            t for t in read_transcripts(path) if t.id not in AMBIGUOUS
        ]
        for path in sorted(folder.glob("conversations_*.jsonl"))
    }


def flags(session, transcripts) -> dict[str, dict]:
    """Per conversation: failed (a critical criterion failed), the failing criteria, and the
    assistant turns they cite."""
    run = session.score(transcripts)
    out = {}
    for result in run.transcripts:
        failing = [c for c in result.criteria if c.severity == "critical" and c.label == "fail"]
        out[result.id] = {
            "failed": result.verdict == "fail",
            "criteria": sorted({c.criterion_id for c in failing}),
            "turns": sorted({e.turn for c in failing for e in c.evidence if e.turn is not None}),
        }
    return out


def _rate(hits: int, total: int) -> dict:
    return {"n": total, "flagged": hits, "rate": round(hits / total, 3) if total else None}


def summarise(found: dict[str, dict], quality, guard) -> dict:
    report: dict = {"quality_safe": {}, "convguard": {}}
    for batch, transcripts in quality.items():
        report["quality_safe"][batch] = _rate(
            sum(found[t.id]["failed"] for t in transcripts), len(transcripts)
        )
    every = [t for ts in quality.values() for t in ts]
    report["quality_safe"]["all"] = _rate(sum(found[t.id]["failed"] for t in every), len(every))
    guard_all = [t for ts in guard.values() for t in ts]
    safe = [t for t in guard_all if t.metadata.get("version") == "safe"]
    harmful = [t for t in guard_all if t.metadata.get("version") == "harmful"]
    if guard_all:
        report["convguard"]["safe_flagged"] = _rate(
            sum(found[t.id]["failed"] for t in safe), len(safe)
        )
        caught = [found[t.id]["failed"] for t in harmful]
        on_turn = [t.metadata["harmful_turn"] in found[t.id]["turns"] for t in harmful]
        report["convguard"]["harmful_caught"] = _rate(sum(caught), len(harmful))
        report["convguard"]["harmful_caught_on_the_harmful_turn"] = _rate(
            sum(on_turn), len(harmful)
        )
        report["convguard"]["missed"] = [
            t.id for t, c in zip(harmful, caught, strict=True) if not c
        ]
        report["convguard"]["false_alarms"] = [t.id for t in safe if found[t.id]["failed"]]
    report["criteria_on_safe"] = {}
    for t in every + safe:
        for criterion in found[t.id]["criteria"]:
            report["criteria_on_safe"][criterion] = report["criteria_on_safe"].get(criterion, 0) + 1
    return report


def refit_flags(quality, guard, with_conversations: bool) -> dict[str, dict]:
    from evaluator.io import write_json
    from evaluator.judges.local import LocalJudge
    from evaluator.scoring import open_session

    rows = load_rows(conversations=with_conversations)
    data = featurise(rows)
    found: dict[str, dict] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_session(Settings(), judge="local", retrieval=False) as session,
    ):
        plans = [(batch, {batch}, quality[batch]) for batch in quality]
        plans.append(("all", set(), [t for ts in guard.values() for t in ts]))
        for name, skip, transcripts in plans:
            if not transcripts:
                continue
            keep = np.array(
                [
                    r["source"] != "quality" or r["conversation"].split("-")[0] not in skip
                    for r in rows
                ]
            )
            model = fit_model(data, np.where(keep)[0])
            path = Path(tmp) / f"model-{name}.json"
            write_json(path, model)
            session.judge = LocalJudge(path)
            found.update(flags(session, transcripts))
            print(
                f"refit without {sorted(skip) or 'nothing'}: threshold {model['threshold']}",
                flush=True,
            )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only", choices=("shipped", "refit"))
    parser.add_argument("--without-conversations", action="store_true")
    parser.add_argument(
        "--quality-only", action="store_true", help="leave convguard out (keep it unseen)"
    )
    args = parser.parse_args()
    setup_offline_env()
    warnings.filterwarnings("ignore")
    from evaluator.scoring import open_session

    quality = conversations(QUALITY)
    guard = {} if args.quality_only else conversations(CONVGUARD)
    report = {}
    if args.only in (None, "shipped"):
        with open_session(Settings(), judge="local", retrieval=False) as session:
            transcripts = [t for ts in [*quality.values(), *guard.values()] for t in ts]
            report["shipped"] = summarise(flags(session, transcripts), quality, guard)
    if args.only in (None, "refit"):
        found = refit_flags(quality, guard, not args.without_conversations)
        report["refit"] = summarise(found, quality, guard)
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
