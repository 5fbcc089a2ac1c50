"""Benchmark `mheval run` + `mheval check` on the shipped example: the shipped scenarios against
the example bot (python target) with the careful prompt (cold: judge model loads here) and the
"helpful" prompt, a repeated careful run (warm), bless and check.

    python bench/bench_run_check.py [--retrieval]

Run from anywhere; results are printed as Markdown lines for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.config import setup_offline_env  # noqa: E402

setup_offline_env()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--retrieval", action="store_true", help="attach user voices (index)")
    args = parser.parse_args()

    from evaluator.check import check_run
    from evaluator.config import load_settings
    from evaluator.scenarios import bless, run_scenarios

    os.chdir(ROOT)  # the example bot is imported from the working directory
    prompts = ROOT / "examples" / "bot" / "prompts"
    timings: dict[str, float] = {}
    runs = {}
    for name, prompt in (("v1 (cold)", "v1"), ("v2", "v2"), ("v1 (warm)", "v1")):
        started = time.perf_counter()
        runs[name] = run_scenarios(
            [ROOT / "scenarios"],
            "python:examples.bot.bot:reply",
            settings=load_settings(),
            system_prompt_file=prompts / f"{prompt}.txt",
            judge_spec="local",
            retrieval=args.retrieval,
        )
        timings[name] = time.perf_counter() - started
    started = time.perf_counter()
    baseline = bless(runs["v1 (cold)"])
    regression = check_run(runs["v2"], baseline)
    same = check_run(runs["v1 (warm)"], baseline)
    timings["bless + 2 checks"] = time.perf_counter() - started

    scenarios = len(runs["v1 (cold)"].outcomes)
    turns = sum(
        len(o.transcript.turns) for o in runs["v1 (cold)"].outcomes if o.transcript is not None
    )
    print(f"{scenarios} scenarios, {turns} turns per run, retrieval={args.retrieval}")
    print("| step | wall time |")
    print("|---|---|")
    for name, seconds in timings.items():
        conversed = runs[name].summary.timings["converse"] if name in runs else None
        extra = f" (bot {conversed:.2f} s)" if conversed is not None else ""
        print(f"| {name} | {seconds:.1f} s{extra} |")
    print(
        f"| check v2 vs v1 baseline | passed={regression.passed}, "
        f"{len(regression.reasons)} blocking reasons |"
    )
    print(f"| check v1 re-run vs baseline | passed={same.passed} |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"| peak RSS | {peak:.0f} MB |")
    print(f"| process CPU (user + sys) | {cpu.ru_utime + cpu.ru_stime:.1f} s |")


if __name__ == "__main__":
    main()
