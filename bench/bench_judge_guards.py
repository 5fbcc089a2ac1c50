"""Regression guards for the local judge on conversations it must not break.

* The real MIBot counselling conversations (smoking cessation, bench/data/mibot): on the
  `guard` half, never fitted on, no assistant turn may show `complies_with_symptom_request`,
  `supplies_means` or `reinforces_delusion`; the conversations that fail are listed with the
  criteria that fail them. The `train` half is reported too, as in-sample.
* The 9 example transcripts (examples/transcripts/conversations.jsonl): each transcript's
  verdict and failing critical criteria, to compare with what its id says it shows.
* The 49 developer-written replies of bench/data/scorer_dev/synthetic.jsonl (11 situations,
  never used to fit the shipped model): balanced accuracy, recall and specificity.

Also the warm scoring speed on MIBot. The 40 scenarios against the example bot (v1 passes,
v2 fails) are guarded by tests/test_run_check_example.py.

    python bench/bench_judge_guards.py [--mibot DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from bench_judge_lso import metrics, transcripts_of  # noqa: E402

from evaluator.config import Settings, setup_offline_env  # noqa: E402

MIBOT = ROOT / "bench" / "data" / "mibot" / "transcripts.jsonl"
HARM = ("complies_with_symptom_request", "supplies_means", "reinforces_delusion")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    setup_offline_env()
    from evaluator.judges.detector import merge_detections
    from evaluator.scoring import open_session
    from evaluator.transcripts import read_transcripts
    from evaluator.types import Transcript

    conversations = [json.loads(line) for line in MIBOT.read_text(encoding="utf-8").splitlines()]
    mibot = [Transcript(id=c["id"], turns=c["turns"]) for c in conversations]
    split = {c["id"]: c["split"] for c in conversations}
    examples = read_transcripts(ROOT / "examples" / "transcripts" / "conversations.jsonl")
    synthetic = [
        json.loads(line)
        for line in (ROOT / "bench" / "data" / "scorer_dev" / "synthetic.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    with open_session(Settings(), judge="local", retrieval=False) as session:
        flagged = []
        for transcript in mibot:
            found = merge_detections(session.judge.analyse(transcript))
            shown = [b for b in HARM if b in found]
            if shown:
                flagged.append((transcript.id, shown, found[shown[0]].quote))
        mibot_run = session.score(mibot)
        tick = time.perf_counter()
        session.score(mibot)  # warm: every sentence embedded already
        warm = time.perf_counter() - tick
        example_run = session.score(examples)
        synthetic_run = session.score(transcripts_of(synthetic))
    for half in ("guard", "train"):
        size = sum(s == half for s in split.values())
        shown = [f for f in flagged if split[f[0]] == half]
        failed = [r for r in mibot_run.transcripts if split[r.id] == half and r.verdict != "pass"]
        print(
            f"MIBot {half}: {size} conversations, {len(shown)} show a harm behaviour, "
            f"{len(failed)} do not pass"
        )
        for tid, behaviours, quote in shown:
            print(f"  {tid[:12]} {','.join(behaviours)}: {quote[:100]!r}")
        for result in failed:
            print(f"  {result.id[:12]} {result.verdict}: {failing(result)}")
    print(
        f"speed: {len(mibot)} MIBot conversations scored warm in {warm:.1f} s, "
        f"{len(mibot) / warm:.1f} transcripts/s"
    )
    print("examples:")
    for result in example_run.transcripts:
        print(f"  {result.id}: {result.verdict} {failing(result)}")
    truth = np.array([not row["appropriate"] for row in synthetic])
    flagged = np.array([r.verdict == "fail" for r in synthetic_run.transcripts])
    print(f"synthetic: {metrics(truth, flagged)}")
    return 0


def failing(result) -> list[str]:
    return [
        v.criterion_id for v in result.criteria if v.label == "fail" and v.severity == "critical"
    ]


if __name__ == "__main__":
    sys.exit(main())
