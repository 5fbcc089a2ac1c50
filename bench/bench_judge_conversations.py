"""The local judge on whole multi-turn conversations: does it leave safe ones alone, and does it
still catch one harmful turn in the middle?

A CI gate fails a conversation when any assistant turn fails a critical criterion, so a judge
whose per-reply specificity is 0.65 fails most safe conversations of five or six turns. The
situation bank (bench_judge_lso.py) measures one reply per transcript and cannot see that.

Data, scored whole through `mheval score`'s path (shipped rubrics, no user voices):
* bench/data/quality: 63 safe support conversations at three quality levels, by three writers
  (batches qa, qb, qc); the two versions in fit_judge.AMBIGUOUS are left out.
* bench/data/convguard: paired conversations, `safe` and `harmful` (one assistant turn does
  harm, named in metadata.harmful_turn); held out until two judge versions had been scored on
  it, a training set since (fit_judge.conversation_rows).
* `--fresh [DIR]`: a held-out set, scored once per judge version with the shipped model and
  each `--model`: bench/data/convfresh (the default; 16 pairs and 20 benign conversations, with
  bench/data/quality2's 36 safe conversations), convfresh2 or convfresh3 (16 pairs, 10 benign).

Judges compared on the same conversations:
* `shipped`: evaluator/judges/resources/compliance_model.json as it is;
* `refit`: fit_judge.fit_model on what `fit_judge.py --with-conversations` trains on, except
  that each batch of quality and convguard is scored by a model fitted without that batch
  (leave-writer-out).
  `--without-conversations` refits without any training conversations.

    python bench/bench_judge_conversations.py [--out out.json] [--only shipped|refit]
    python bench/bench_judge_conversations.py --fresh [DIR] [--model candidate.json ...]
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
CONVFRESH = ROOT / "bench" / "data" / "convfresh"
QUALITY2 = ROOT / "bench" / "data" / "quality2"  # held-out rated set: 36 safe conversations


def conversations(folder: Path) -> dict[str, list]:
    """Batch name -> its transcripts (ambiguous versions left out); every `*.jsonl` of the folder
    holding transcripts (`conversations_*`, `pairs_*`, `benign_*`)."""
    from evaluator.transcripts import read_transcripts

    return {
        path.stem.split("_", 1)[1]: [t for t in read_transcripts(path) if t.id not in AMBIGUOUS]
        for path in sorted(folder.glob("*.jsonl"))
        if path.stem.split("_", 1)[0] in ("conversations", "pairs", "benign")
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


def _ci(hits: list[bool], scenarios: list[str], draws: int = 2000) -> list[float] | None:
    """95% bootstrap interval of the rate, resampling scenarios (a pair's versions together)."""
    if not hits:
        return None
    names = sorted(set(scenarios))
    by = {n: [h for h, s in zip(hits, scenarios, strict=True) if s == n] for n in names}
    rng = np.random.default_rng(20261208)
    rates = []
    for _ in range(draws):
        pick = [h for n in rng.choice(names, len(names)) for h in by[n]]
        rates.append(sum(pick) / len(pick))
    return [round(float(q), 3) for q in np.percentile(rates, [2.5, 97.5])]


def summarise_set(found: dict[str, dict], batches: dict[str, list]) -> dict:
    """Safe conversations flagged (per batch and all, with a CI), harmful ones caught and caught
    on the harmful turn itself, the ids of misses and false alarms."""
    every = [t for ts in batches.values() for t in ts]
    safe = [t for t in every if t.metadata.get("version") != "harmful"]
    harmful = [t for t in every if t.metadata.get("version") == "harmful"]
    failed = [found[t.id]["failed"] for t in safe]
    report: dict = {
        "safe_by_batch": {
            batch: _rate(
                sum(found[t.id]["failed"] for t in ts if t in safe),
                sum(t in safe for t in ts),
            )
            for batch, ts in batches.items()
        },
        "safe_flagged": {
            **_rate(sum(failed), len(safe)),
            "ci": _ci(failed, [t.metadata.get("scenario", t.id) for t in safe]),
        },
        "false_alarms": [t.id for t in safe if found[t.id]["failed"]],
    }
    if harmful:
        caught = [found[t.id]["failed"] for t in harmful]
        on_turn = [t.metadata["harmful_turn"] in found[t.id]["turns"] for t in harmful]
        scenarios = [t.metadata["scenario"] for t in harmful]
        report["harmful_caught"] = {
            **_rate(sum(caught), len(harmful)),
            "ci": _ci(caught, scenarios),
        }
        report["harmful_caught_on_the_harmful_turn"] = {
            **_rate(sum(on_turn), len(harmful)),
            "ci": _ci(on_turn, scenarios),
        }
        report["missed"] = [t.id for t, c in zip(harmful, caught, strict=True) if not c]
    criteria: dict[str, int] = {}
    for t in safe:
        for criterion in found[t.id]["criteria"]:
            criteria[criterion] = criteria.get(criterion, 0) + 1
    report["criteria_on_safe"] = criteria
    return report


def summarise(found: dict[str, dict], quality, guard) -> dict:
    report = {"quality_safe": summarise_set(found, quality)}
    if guard:
        report["convguard"] = summarise_set(found, guard)
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
        plans = [(batch, {batch}, ts) for batch, ts in [*quality.items(), *guard.items()]]
        for name, skip, transcripts in plans:
            if not transcripts:
                continue
            keep = np.array([r.get("conversation", "").split("-")[0] not in skip for r in rows])
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


def fresh_report(folder: Path, models: list[Path]) -> dict:
    """A held-out set (`folder`; convfresh with quality2's safe conversations), scored once per
    judge model: the shipped one and `models`."""
    from evaluator.judges.local import LocalJudge
    from evaluator.scoring import open_session

    fresh = conversations(folder)
    if folder == CONVFRESH:
        fresh.update(conversations(QUALITY2))
    transcripts = [t for ts in fresh.values() for t in ts]
    report = {}
    for name, path in [("shipped", None), *((p.stem, p) for p in models)]:
        with open_session(Settings(), judge="local", retrieval=False) as session:
            if path is not None:
                session.judge = LocalJudge(path)
            report[name] = summarise_set(flags(session, transcripts), fresh)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only", choices=("shipped", "refit"))
    parser.add_argument("--without-conversations", action="store_true")
    parser.add_argument(
        "--quality-only", action="store_true", help="leave convguard out (keep it unseen)"
    )
    parser.add_argument(
        "--fresh",
        nargs="?",
        const=CONVFRESH,
        type=Path,
        metavar="DIR",
        help="score only a held-out set (default convfresh, with quality2's safe conversations), "
        "with the shipped model and each --model",
    )
    parser.add_argument("--model", type=Path, action="append", default=[], help="a model JSON")
    args = parser.parse_args()
    setup_offline_env()
    warnings.filterwarnings("ignore")
    if args.fresh:
        report = {args.fresh.name: fresh_report(args.fresh, args.model)}
    else:
        report = compare(args)
    text = json.dumps(report, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return 0


def compare(args) -> dict:
    """The shipped judge and a refit on quality (leave-writer-out) and convguard."""
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
    return report


if __name__ == "__main__":
    sys.exit(main())
