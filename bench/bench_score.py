"""Benchmark `mheval score`: transcript reading throughput and memory, scoring time per
transcript with the local judge (with and without user-voice retrieval), and report rendering.

    python bench/bench_score.py [--config mheval.toml] [--mibot DIR] [--limit N]
                                [--conversations N] [--skip-scoring]

`--mibot` points at a folder of MIBot utterance files (default: the shared data copy, else the
three test files), of which the first `--limit` are scored. Settings (rubrics, index) come from
`--config` or the usual lookup. Results are printed as Markdown lines for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.config import setup_offline_env  # noqa: E402

setup_offline_env()

from evaluator.transcripts import iter_transcripts  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_reading(conversations: int) -> list[str]:
    """Stream a synthetic JSONL export: 6 turns per conversation, ~1.2 kB of text each."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jsonl"
        turn = "I keep putting things off and then I feel terrible about it. " * 3
        with path.open("w") as handle:
            for index in range(conversations):
                messages = [
                    {"role": "user" if i % 2 == 0 else "assistant", "content": turn}
                    for i in range(6)
                ]
                handle.write(json.dumps({"id": f"c{index}", "messages": messages}) + "\n")
        size_mb = path.stat().st_size / 1e6
        before = peak_mb()
        start = time.perf_counter()
        count = sum(1 for _ in iter_transcripts([path]))
        seconds = time.perf_counter() - start
    return [
        f"- read {count:,} conversations ({size_mb:.0f} MB JSONL, streamed): {seconds:.1f} s "
        f"({count / seconds:,.0f} conversations/s); peak RSS grew {peak_mb() - before:.0f} MB",
    ]


def bench_scoring(mibot: Path, limit: int, config: Path | None) -> list[str]:
    import shutil

    from evaluator.config import load_settings
    from evaluator.report import render_html, render_markdown
    from evaluator.scoring import score_files

    settings = load_settings(config)
    lines = []
    folder = Path(tempfile.mkdtemp())
    for path in sorted(mibot.glob("*.json"))[:limit]:
        shutil.copy(path, folder / path.name)
    for retrieval in (False, True):
        start = time.perf_counter()
        run = score_files([folder], settings=settings, retrieval=retrieval)
        seconds = time.perf_counter() - start
        n = len(run.transcripts)
        verdicts = sum(len(r.criteria) for r in run.transcripts)
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in run.timings.items())
        lines.append(
            f"- score {n} MIBot transcripts ({verdicts} verdicts), local judge, retrieval "
            f"{'on' if retrieval else 'off'}: {seconds:.1f} s wall ({seconds / n * 1000:.0f} ms "
            f"per transcript; {timings})"
        )
    start = time.perf_counter()
    html = render_html(run)
    markdown = render_markdown(run)
    lines.append(
        f"- render reports for {n} transcripts: {time.perf_counter() - start:.2f} s "
        f"(HTML {len(html) / 1e3:.0f} kB, Markdown {len(markdown) / 1e3:.0f} kB)"
    )
    lines.append(f"- peak RSS of the process: {peak_mb():.0f} MB")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    shared = ROOT.parent / "shared" / "data" / "transcripts" / "mibot"
    default = shared if shared.is_dir() else ROOT / "tests" / "data" / "transcripts" / "mibot"
    parser.add_argument("--mibot", type=Path, default=default)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--conversations", type=int, default=20000)
    parser.add_argument("--skip-scoring", action="store_true")
    args = parser.parse_args()
    lines = bench_reading(args.conversations)
    if not args.skip_scoring:
        lines += bench_scoring(args.mibot, args.limit, args.config)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
