"""Benchmark `mheval mine` with the LLM annotator, minus the model: what the pipeline costs.

A fake chat model answers instantly (or after `--latency` seconds) with one impact quoting the
post's first words, so the numbers measure our side: prompt building, structured-output
parsing, quote verification, label normalisation, the fsynced partial file, the final atomic
write and the SQLite answer cache. Posts are the 170 real posts of bench/data/mine_dev, repeated
with fresh ids (so every post is a distinct cache entry).

    python bench/bench_mine.py                      # the figures in BENCHMARKS.md
    python bench/bench_mine.py -n 5000 --latency 0.2 --latency-posts 64
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatResult  # noqa: E402

from evaluator.codebook import load_codebook  # noqa: E402
from evaluator.config import load_settings  # noqa: E402
from evaluator.llm import open_cache  # noqa: E402
from evaluator.mine import LLMAnnotator, mine  # noqa: E402


class InstantModel(GenericFakeChatModel):
    """Answers every post with one impact quoting its first 12 words (after `latency` s)."""

    messages: object = iter(())
    latency: float = 0.0

    def bind_tools(self, tools, **kwargs):
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        if self.latency:
            time.sleep(self.latency)
        text = str(messages[-1].content).split("\n", 1)[1]
        quote = " ".join(text.split()[:12])
        args = {
            "impacts": [
                {
                    "supporting_quote": quote,
                    "product": "Replika",
                    "sentiment": "positive",
                    "condition": "Anxiety",
                    "perspective": "emotional support",
                    "value": "human welfare",
                }
            ],
            "crisis": False,
        }
        message = AIMessage(
            content="",
            tool_calls=[{"name": "LLMExtraction", "args": args, "id": "call_1"}],
            usage_metadata={"input_tokens": 4000, "output_tokens": 120, "total_tokens": 4120},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def write_corpus(path: Path, count: int) -> None:
    source = ROOT / "bench" / "data" / "mine_dev" / "posts.jsonl"
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(count):
            row = dict(rows[number % len(rows)])
            row["meta"] = {**(row.get("meta") or {}), "source": row.pop("source", None)}
            row["id"] = f"{row['id']}#{number}"
            # A distinct text per copy, so each post is its own cache entry.
            row["text"] = f"{row['text']} [{number}]"
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def run(corpus: Path, out: Path, cache_dir: Path | None, *, latency: float, concurrency: int):
    codebook = load_codebook(load_settings().codebook)
    annotator = LLMAnnotator(
        InstantModel(latency=latency),
        codebook=codebook,
        cache=open_cache(cache_dir),
        concurrency=concurrency,
        backoff=0,
    )
    started = time.perf_counter()
    report = mine(corpus, out, annotator=annotator, codebook=codebook)
    return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="posts for the overhead runs")
    parser.add_argument("--latency", type=float, default=0.2, help="fake model latency (s)")
    parser.add_argument("--latency-posts", type=int, default=48)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus.jsonl"
        write_corpus(corpus, args.n)
        cold, report = run(corpus, tmp / "a.jsonl", tmp / "cache", latency=0, concurrency=4)
        warm, again = run(corpus, tmp / "a.jsonl", tmp / "cache", latency=0, concurrency=4)
        assert again.usage.calls == 0 and again.usage.cached == args.n
        print(f"posts: {args.n}, relevant {report.relevant}, quotes checked per post: 1")
        print(f"uncached (instant model): {cold:.2f} s = {args.n / cold:.0f} posts/s")
        print(f"cached re-run:            {warm:.2f} s = {args.n / warm:.0f} posts/s")

        small = tmp / "small.jsonl"
        write_corpus(small, args.latency_posts)
        for concurrency in (1, 8):
            seconds, _ = run(
                small,
                tmp / f"c{concurrency}.jsonl",
                None,
                latency=args.latency,
                concurrency=concurrency,
            )
            print(
                f"latency {args.latency:.1f} s, concurrency {concurrency}: "
                f"{args.latency_posts / seconds:.1f} posts/s ({seconds:.1f} s)"
            )


if __name__ == "__main__":
    main()
