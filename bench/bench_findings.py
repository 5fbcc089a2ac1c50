"""Time `findings` (statistics, report, heatmaps) and `guidelines build` on a SYNTHETIC corpus.

Usage: python bench/bench_findings.py [--posts 20000]

The corpus is generated (11 conditions, 12 perspectives, 12 values, random labels with a few
planted associations), so the figures are the cost of the statistics and the rubric build, not
of annotation. Results go in BENCHMARKS.md, section "findings and guidelines".
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import tempfile
import time
from pathlib import Path

CONDITIONS = ["general", "anxiety", "depressive", "adhd", "autism", "schizophrenia_spectrum"]
CONDITIONS += ["bipolar", "eating", "other", "conduct", "intellectual_disability"]
PERSPECTIVES = ["emotional_support", "instrumental_support", "informational_support"]
PERSPECTIVES += ["appraisal_support", "anthropomorphism", "dependency", "maladaptive_usage"]
PERSPECTIVES += ["psychological_harm", "clinical_skepticism", "interaction_limitations"]
PERSPECTIVES += ["ethics", "sociocultural_impact"]
VALUES = ["human_welfare", "autonomy", "privacy", "informed_consent", "trust", "accountability"]
VALUES += ["freedom_from_bias", "identity", "calmness", "ownership_and_property"]
VALUES += ["universal_usability", "none"]


def generate(path: Path, posts: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    weights = [40, 12, 12, 8, 6, 6, 3, 2, 6, 1, 1]
    impacts = 0
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for number in range(posts):
            rows = []
            for _ in range(rng.choice((1, 1, 2, 3))):
                condition = rng.choices(CONDITIONS, weights)[0]
                perspective = rng.choice(PERSPECTIVES)
                if condition == "adhd" and rng.random() < 0.5:
                    perspective = "instrumental_support"
                rows.append(
                    {
                        "supporting_quote": f"post {number} says something about {perspective}",
                        "product": rng.choice(["ChatGPT", "Replika", "Wysa", None]),
                        "sentiment": rng.choice(["positive", "negative", "neutral"]),
                        "condition": condition,
                        "perspective": perspective,
                        "value": rng.choice(VALUES),
                        "confidence": round(rng.random(), 2),
                    }
                )
            impacts += len(rows)
            record = {"id": f"bench:{number}", "relevant": True, "impacts": rows}
            record["crisis"] = rng.random() < 0.03
            handle.write(json.dumps(record) + "\n")
    return impacts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=20000)
    args = parser.parse_args()
    from evaluator.findings import run_findings
    from evaluator.guidelines import run_build

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        annotations = folder / "annotations.jsonl.gz"
        impacts = generate(annotations, args.posts)
        start = time.perf_counter()
        output = run_findings(annotations, folder / "findings", heatmaps=False)
        findings_time = time.perf_counter() - start
        start = time.perf_counter()
        run_findings(annotations, folder / "findings2", heatmaps=True)
        with_heatmaps = time.perf_counter() - start
        start = time.perf_counter()
        result = run_build(output.json_path, folder / "guidelines")
        build_time = time.perf_counter() - start
        start = time.perf_counter()
        from evaluator.guidelines import load_rubrics

        load_rubrics(folder / "guidelines")
        load_time = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    criteria = sum(len(r.criteria) for r in result.rubrics.values())
    print(f"posts {args.posts}, impacts {impacts}")
    print(f"findings (json+md)      {findings_time:6.2f} s")
    print(f"findings + 3 heatmaps   {with_heatmaps:6.2f} s")
    rubrics = len(result.rubrics)
    print(f"guidelines build        {build_time:6.2f} s  ({rubrics} rubrics, {criteria} criteria)")
    print(f"load_rubrics            {load_time:6.2f} s")
    print(f"peak RSS                {peak:6.0f} MiB")


if __name__ == "__main__":
    main()
