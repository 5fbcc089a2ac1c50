"""Benchmark the corpus index: encode throughput, build throughput, query latency (with and
without metadata filters) and disk size, at the shipped size and at 100,000 items.

    python bench/bench_index.py [--annotations FILE --corpus FILE] [--quotes N] [--scale N]
                                [--queries N]

Shipped size: the shipped annotations (corpus_index/annotations.jsonl.gz) when present; else
`--quotes` real sentences from the shipped corpus, each made an impact with seeded random labels
(real text, synthetic labels). Large scale: `--scale` synthetic items with random unit vectors
(no 100k encodes; encode throughput is measured separately on real text), random labels, short
synthetic texts, inserted through the same store and queried through the same Retriever.
Results are printed as a Markdown block for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.config import Settings, setup_offline_env  # noqa: E402

setup_offline_env()

from evaluator import __version__  # noqa: E402
from evaluator.embeddings import load_model  # noqa: E402
from evaluator.index import Embedder, Retriever, VectorStore, build_index, model_info  # noqa: E402
from evaluator.types.index import IndexManifest  # noqa: E402

CONDITIONS = ["general", "depressive", "anxiety", "bipolar", "schizophrenia_spectrum", "adhd",
              "autism", "eating", "other"]  # fmt: skip
PERSPECTIVES = ["emotional_support", "instrumental_support", "informational_support",
                "appraisal_support", "anthropomorphism", "dependency", "maladaptive_usage",
                "psychological_harm", "clinical_skepticism", "interaction_limitations", "ethics",
                "sociocultural_impact"]  # fmt: skip
VALUES = ["human_welfare", "autonomy", "privacy", "informed_consent", "trust", "accountability",
          "freedom_from_bias", "identity", "calmness", "universal_usability", "none"]  # fmt: skip
SENTIMENTS = ["positive", "negative", "neutral"]
QUERIES = [
    "the bot keeps telling me to call a hotline instead of listening",
    "it helps me break big tasks into small steps",
    "I talk to it every night and cannot stop",
    "it agreed with my paranoid thoughts",
    "it does not understand what an eating disorder is",
    "I feel less alone when I talk to my replika",
    "they changed the model and my companion is gone",
    "it is not a therapist and should not pretend to be",
]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def latency(fn, queries: list[str], clear=None) -> str:
    fn("warm up")
    if clear is not None:
        clear()  # every timed query encodes its text, as a new criterion would
    times = []
    for text in queries:
        tick = time.perf_counter()
        fn(text)
        times.append((time.perf_counter() - tick) * 1000)
    return f"p50 {percentile(times, 50):.1f} ms, p95 {percentile(times, 95):.1f} ms"


def real_sentences(corpus: Path, n: int, seed: int) -> list[tuple[str, str, str]]:
    """(post id, post text, sentence) for `n` distinct 6-40-word sentences of the corpus."""
    found, seen = [], set()
    with gzip.open(corpus, "rt") if corpus.suffix == ".gz" else open(corpus) as handle:
        for line in handle:
            post = json.loads(line)
            for sentence in re.split(r"(?<=[.!?])\s+|\n+", post["text"]):
                sentence = sentence.strip()
                if 6 <= len(sentence.split()) <= 40 and sentence not in seen:
                    seen.add(sentence)
                    found.append((post["id"], post["text"], sentence))
    random.Random(seed).shuffle(found)
    return found[:n]


def synthetic_annotations(corpus: Path, n: int, folder: Path, seed: int) -> Path:
    rng = random.Random(seed)
    by_post: dict[str, list[dict]] = {}
    for post_id, _, sentence in real_sentences(corpus, n, seed):
        by_post.setdefault(post_id, []).append(
            {
                "supporting_quote": sentence,
                "product": rng.choice(["chatgpt", "replika", "wysa", None]),
                "sentiment": rng.choice(SENTIMENTS),
                "condition": rng.choice(CONDITIONS),
                "perspective": rng.choice(PERSPECTIVES),
                "value": rng.choice(VALUES),
                "confidence": 1.0,
            }
        )
    path = folder / "annotations.jsonl"
    with open(path, "w") as handle:
        for post_id, impacts in by_post.items():
            row = {
                "id": post_id,
                "relevant": True,
                "impacts": impacts,
                "annotator": {"name": "bench", "codebook_version": "bench"},
            }
            handle.write(json.dumps(row) + "\n")
    return path


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def bench_shipped(args, tmp: Path) -> list[str]:
    lines = []
    settings = Settings()
    corpus = Path(args.corpus or settings.corpus)
    annotations = Path(args.annotations) if args.annotations else settings.annotations
    if annotations.is_file():
        source = f"shipped annotations ({annotations.name})"
    else:
        annotations = synthetic_annotations(corpus, args.quotes, tmp, args.seed)
        source = (
            f"{args.quotes:,} real corpus sentences with seeded random labels "
            "(shipped annotations not available yet)"
        )
    cache = Path(args.cache_dir) if args.cache_dir else tmp / "cache"
    bench = Settings(corpus=corpus, annotations=annotations, index_path=tmp / "shipped",
                     cache_dir=cache)  # fmt: skip

    tick = time.perf_counter()
    load_model()
    lines.append(f"- model load (first use in a process): {time.perf_counter() - tick:.1f} s")

    tick = time.perf_counter()
    cold = build_index(bench)
    cold_s = time.perf_counter() - tick
    lines.append(
        f"- build, cold embedding cache ({source}): {cold.count:,} voices in {cold_s:.1f} s = "
        f"**{cold.count / cold_s:,.0f} items/s** (encode + store)"
    )
    encode_rate = cold.encoded / max(1e-9, cold_s)
    warm = build_index(bench.model_copy(update={"index_path": tmp / "shipped2"}))
    lines.append(
        f"- build, warm cache (new index, nothing encoded): {warm.count:,} voices in "
        f"{warm.seconds:.1f} s = **{warm.count / warm.seconds:,.0f} items/s** (Chroma insert)"
    )
    again = build_index(bench)
    lines.append(f"- re-run with nothing changed: {again.seconds:.2f} s")

    embedder = Embedder()
    texts = [s for _, _, s in real_sentences(corpus, args.encode, args.seed + 1)]
    tick = time.perf_counter()
    embedder.encode(texts)
    enc_s = time.perf_counter() - tick
    lines.append(
        f"- encode throughput (real corpus sentences, batch 64, CPU): {len(texts):,} in "
        f"{enc_s:.1f} s = **{len(texts) / enc_s:,.0f} texts/s** (build-time rate incl. store "
        f"was {encode_rate:,.0f}/s)"
    )
    single = []
    for text in texts[: args.queries]:
        tick = time.perf_counter()
        embedder._encode_raw([text], threads=1)
        single.append((time.perf_counter() - tick) * 1000)
    lines.append(
        f"- encode one query (model loaded): p50 {percentile(single, 50):.1f} ms, "
        f"p95 {percentile(single, 95):.1f} ms"
    )

    lines.append(f"- disk: {dir_mb(tmp / 'shipped'):.1f} MB for {cold.count:,} voices")
    lines += query_block(Retriever.open(bench, auto_build=False), texts, args.queries)
    return lines


def query_block(retriever: Retriever, texts: list[str], n: int) -> list[str]:
    queries = (QUERIES + texts)[:n]
    clear = retriever.embedder.encode_query.cache_clear
    return [
        "- query, no filter (k=5): " + latency(lambda t: retriever.query(t, k=5), queries, clear),
        "- query, condition filter (k=5): "
        + latency(lambda t: retriever.query(t, condition="anxiety", k=5), queries, clear),
        "- query, condition+value+perspective+sentiment (k=5): "
        + latency(
            lambda t: retriever.query(
                t,
                condition="depressive",
                value="human_welfare",
                perspective="emotional_support",
                sentiment="positive",
                k=5,
            ),
            queries,
            clear,
        ),  # fmt: skip
        "- voices_for (3 filters, relaxation, MMR over fetch_k=20, k=3): "
        + latency(
            lambda t: retriever.voices_for(
                text=t,
                conditions=["adhd", "autism"],
                values=["autonomy"],
                perspectives=["instrumental_support"],
                k=3,
            ),
            queries,
            clear,
        ),  # fmt: skip
    ]


def bench_scale(args, tmp: Path) -> list[str]:
    """`--scale` items with random unit vectors through the same store, manifest and Retriever."""
    rng = np.random.default_rng(args.seed)
    info = model_info()
    store = VectorStore.connect(path=tmp / "scale")
    collection = "mheval_voices_1"
    store.create_collection(collection)
    pick = random.Random(args.seed)
    items: dict[str, str] = {}
    conditions: dict[str, int] = {}
    step = 2000
    tick = time.perf_counter()
    for start in range(0, args.scale, step):
        count = min(step, args.scale - start)
        vectors = rng.standard_normal((count, info.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids, documents, metadatas = [], [], []
        for i in range(start, start + count):
            condition = pick.choice(CONDITIONS)
            conditions[condition] = conditions.get(condition, 0) + 1
            ids.append(f"{i:032x}")
            items[f"synthetic:{i}#0"] = ids[-1]
            documents.append(f"synthetic voice {i} about {condition} and chatbots")
            metadatas.append({
                "post_id": f"synthetic:{i}", "platform": "other", "created_at": "",
                "product": "", "sentiment": pick.choice(SENTIMENTS), "condition": condition,
                "perspective": pick.choice(PERSPECTIVES), "value": pick.choice(VALUES),
                "crisis": False, "confidence": 1.0, "context": documents[-1], "gen": 1,
            })  # fmt: skip
        store.add(collection, ids, vectors, documents, metadatas)
    insert_s = time.perf_counter() - tick
    manifest = IndexManifest(
        tool_version=__version__, embedding_model=info, codebook_version="bench",
        collection=collection, generation=1, built_at="bench", count=args.scale,
        conditions=conditions, items=items,
    )  # fmt: skip
    store.write_manifest(manifest)
    store.close()
    tick = time.perf_counter()
    retriever = Retriever.open(
        Settings(index_path=tmp / "scale", cache_dir=tmp / "cache"), auto_build=False
    )
    open_s = time.perf_counter() - tick
    lines = [
        f"- insert {args.scale:,} items (random 384-d unit vectors, no encoding): "
        f"{insert_s:.0f} s = **{args.scale / insert_s:,.0f} items/s**",
        f"- open (manifest of {args.scale:,} items + checks): {open_s:.2f} s",
        f"- disk: {dir_mb(tmp / 'scale'):.0f} MB",
    ]
    texts = [f"synthetic query {i} about feeling alone" for i in range(args.queries)]
    lines += query_block(retriever, texts, args.queries)
    retriever.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations")
    parser.add_argument("--corpus")
    parser.add_argument("--quotes", type=int, default=3000)
    parser.add_argument("--encode", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--cache-dir", help="embedding cache to reuse (default: a fresh one, so builds are cold)"
    )
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        shipped = bench_shipped(args, tmp)
        scale = bench_scale(args, tmp)
    after = os.getloadavg()
    print(
        f"Machine: {os.cpu_count()} cores, shared; 1-min load average {load[0]:.1f} at start, "
        f"{after[0]:.1f} at end. Single run; numbers are indicative under that load.\n"
    )
    print("Shipped size:\n" + "\n".join(shipped))
    print(f"\n{args.scale:,}-item synthetic scale:\n" + "\n".join(scale))


if __name__ == "__main__":
    main()
