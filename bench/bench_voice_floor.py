"""Tune `voice_min_similarity`: how similar are the voices `score` quotes for real transcripts,
and how similar are the best voices for text that has nothing to do with the conversation?

    python bench/bench_voice_floor.py [--transcripts FILE ...] [--k 3]

Scores the transcripts (default: the shipped examples) with the floor off and records every
voices query (text and label filters) and the similarities it returned. Then the same label
filters are queried with two kinds of unrelated text: off-topic English sentences (standard
library docstrings) and the real query's words shuffled. Prints percentiles of the top-1 and of
every quoted similarity for the three, as Markdown for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import inspect
import json
import random
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.config import load_settings, project_root, setup_offline_env  # noqa: E402

setup_offline_env()

from evaluator.index import Retriever  # noqa: E402
from evaluator.scoring import score_files  # noqa: E402


def off_topic_sentences(n: int, rng: random.Random) -> list[str]:
    """Plain English with no bearing on mental health: first sentences of stdlib docstrings."""
    import calendar
    import csv
    import decimal
    import fractions
    import ftplib
    import gzip
    import tarfile
    import textwrap
    import zipfile

    found = []
    for module in (calendar, csv, decimal, fractions, ftplib, gzip, tarfile, textwrap, zipfile):
        for _, member in inspect.getmembers(module):
            doc = inspect.getdoc(member) or ""
            first = " ".join(doc.split("\n\n")[0].split())
            if 40 <= len(first) <= 300 and not re.search(r"[(){}\[\]=<>]", first):
                found.append(first)
    found = sorted(set(found))
    rng.shuffle(found)
    return found[:n]


def percentiles(values: list[float]) -> str:
    if not values:
        return "n/a"
    p = np.percentile(values, [5, 25, 50, 75, 95])
    return " / ".join(f"{x:.2f}" for x in p)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    default = project_root() / "examples" / "transcripts" / "conversations.jsonl"
    parser.add_argument("--transcripts", type=Path, nargs="+", default=[default])
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()

    calls: list[tuple[dict, list[float]]] = []
    real = Retriever.voices_for

    def recording(self, **kwargs):
        voices = real(self, **kwargs)
        calls.append((kwargs, [v.similarity for v in voices]))
        return voices

    Retriever.voices_for = recording
    settings = load_settings().model_copy(update={"voice_min_similarity": -1.0})
    score_files(args.transcripts, settings=settings, k=args.k)
    Retriever.voices_for = real

    rng = random.Random(13)
    off_topic = off_topic_sentences(len(calls), rng)
    retriever = Retriever.open(settings)
    rows = {"transcript turns (what score quotes)": [sims for _, sims in calls]}
    unrelated: list[list[float]] = []
    shuffled: list[list[float]] = []
    for number, (kwargs, _) in enumerate(calls):
        text = kwargs.pop("text")
        words = text.split()
        rng.shuffle(words)
        other = off_topic[number % len(off_topic)]
        unrelated.append([v.similarity for v in retriever.voices_for(text=other, **kwargs)])
        mixed = " ".join(words)
        shuffled.append([v.similarity for v in retriever.voices_for(text=mixed, **kwargs)])
    retriever.close()
    rows["off-topic sentences, same filters"] = unrelated
    rows["shuffled words of the turns, same filters"] = shuffled

    print(f"{len(calls)} voices queries (k={args.k}) from {', '.join(map(str, args.transcripts))}")
    print()
    print("| queries | top-1 similarity p5 / p25 / p50 / p75 / p95 | every quoted voice |")
    print("|---|---|---|")
    for name, sims in rows.items():
        tops = [s[0] for s in sims if s]
        every = [x for s in sims for x in s]
        print(f"| {name} | {percentiles(tops)} | {percentiles(every)} |")
    print()
    real_every = [x for s in rows["transcript turns (what score quotes)"] for x in s]
    off_every = [x for s in unrelated for x in s]
    for floor in (0.15, 0.2, 0.25, 0.3, 0.35):
        kept = np.mean([x >= floor for x in real_every])
        leaked = np.mean([x >= floor for x in off_every])
        print(f"- floor {floor:.2f}: keeps {kept:.0%} of the voices quoted for the transcripts, "
              f"{leaked:.0%} of those found for off-topic text")  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({name: sims for name, sims in rows.items()}, handle)
    print(f"\nraw similarities: {handle.name}")


if __name__ == "__main__":
    main()
