"""Benchmark `mheval corpus ingest`: throughput and peak memory on synthetic Pushshift JSONL.

Generates N Reddit comments (default 1,000,000; ~10% with a URL, e-mail, u/name or phone, 3%
exact duplicates, 1% `[deleted]`) into a temporary folder, ingests them in a child process and
reads that child's peak RSS from `getrusage(RUSAGE_CHILDREN)`. With `--scaling` it first runs a
tenth of N, so the difference shows how memory grows with unique posts (only the dedup hashes
should grow; the input is streamed).

    python bench/bench_ingest.py                 # 1M posts, the figure in BENCHMARKS.md
    python bench/bench_ingest.py -n 100000 --scaling
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    "i",
    "my",
    "the",
    "a",
    "to",
    "and",
    "it",
    "me",
    "of",
    "that",
    "was",
    "with",
    "chatbot",
    "therapist",
    "anxiety",
    "depression",
    "panic",
    "app",
    "talk",
    "helped",
    "night",
    "feel",
    "felt",
    "replika",
    "chatgpt",
    "wysa",
    "lonely",
    "better",
    "worse",
    "ocd",
    "adhd",
    "bipolar",
    "sleep",
    "again",
    "really",
    "just",
    "not",
    "because",
    "when",
    "about",
    "like",
    "would",
    "could",
    "never",
    "always",
    "people",
    "friend",
    "help",
    "crisis",
    "line",
    "support",
    "week",
    "months",
    "years",
    "honestly",
    "listen",
    "judge",
    "safe",
    "advice",
]

CHILD = """
import json, sys
from evaluator.corpus import ingest
report = ingest([sys.argv[1]], sys.argv[2])
print(json.dumps(report.model_dump(mode="json")))
"""


def generate(path: Path, count: int, seed: int = 7) -> int:
    """Write `count` Pushshift-style comments; return the file size in bytes."""
    rng = random.Random(seed)
    recent: list[str] = []
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(count):
            roll = rng.random()
            if roll < 0.03 and recent:
                body = rng.choice(recent)  # an exact repost
            elif roll < 0.04:
                body = "[deleted]"
            else:
                body = " ".join(rng.choices(WORDS, k=rng.randint(8, 140)))
                if roll < 0.14:
                    body += rng.choice(
                        [
                            f" see https://example.org/post/{number}",
                            f" mail me at someone{number}@example.com",
                            f" thanks u/helper_{number % 5000}",
                            f" call 555-{number % 1000:03d}-{number % 10000:04d}",
                        ]
                    )
                recent = (recent + [body])[-50:]
            record = {
                "author": f"user_{rng.randint(1, 200_000)}",
                "body": body,
                "created_utc": 1_600_000_000 + number * 13,
                "id": f"c{number:x}",
                "link_id": f"t3_{number // 40:x}",
                "parent_id": f"t3_{number // 40:x}",
                "permalink": f"/r/bench/comments/{number // 40:x}/_/c{number:x}/",
                "score": rng.randint(-5, 500),
                "subreddit": "bench",
            }
            handle.write(json.dumps(record) + "\n")
    return path.stat().st_size


def run(source: Path, out: Path) -> tuple[dict, float, float]:
    """Ingest in a child process: (report, wall seconds, child peak RSS in MiB)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(source), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(done.stdout), wall, peak_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--posts", type=int, default=1_000_000)
    parser.add_argument("--scaling", action="store_true", help="first run a tenth of N")
    args = parser.parse_args()
    sizes = [args.posts // 10, args.posts] if args.scaling else [args.posts]
    with tempfile.TemporaryDirectory(prefix="mheval-bench-ingest-") as folder:
        for size in sizes:
            source = Path(folder) / f"comments_{size}.jsonl"
            nbytes = generate(source, size)
            report, wall, peak = run(source, Path(folder) / f"corpus_{size}.jsonl")
            # ru_maxrss of children is the maximum over all children so far: run small first.
            dropped = report["dropped"]
            print(
                f"posts={size:,} input={nbytes / 2**20:,.0f} MiB "
                f"written={report['posts_out']:,} duplicates={dropped['duplicate_text']:,} "
                f"deleted={dropped['deleted']:,} ingest={report['elapsed_seconds']:.1f}s "
                f"({report['posts_per_second']:,.0f} posts/s) "
                f"wall={wall:.1f}s peak_rss={peak:,.0f} MiB"
            )


if __name__ == "__main__":
    main()
