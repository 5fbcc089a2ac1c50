"""Time the local annotator against the raw encoder on the same texts (issue 16: mining should
run at >= 0.7x the encoder's throughput), and check that a change left its output alone.

    python bench/bench_annotator_speed.py                       # N=1000 posts, seed 0
    python bench/bench_annotator_speed.py -n 300 --profile      # ... plus the top of cProfile
    python bench/bench_annotator_speed.py -n 300 --snapshot /tmp/before.jsonl   # write, then
    python bench/bench_annotator_speed.py -n 300 --snapshot /tmp/before.jsonl   # ... compare

(a) encodes, once each, the texts the annotator embeds (its candidate sentences and the
contexts of the relevant posts) with the raw SentenceTransformer; (b) runs
`LocalAnnotator.annotate` over the same posts in the pipeline's batch size. Both warm: the
model is loaded and the annotator fitted before the clock starts. The ratio is (a) / (b), in
wall-clock time and in this process's CPU time (less sensitive to other jobs on a shared
machine); `--repeat R` runs (b) then (a) R times and keeps the fastest of each.

`--snapshot FILE` writes the annotations (without the annotator info, which names the model's
provenance) when FILE does not exist, and otherwise reports every post whose annotation differs.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.codebook import load_codebook  # noqa: E402
from evaluator.config import load_settings  # noqa: E402
from evaluator.embeddings import load_model  # noqa: E402
from evaluator.mine.local import LocalAnnotator  # noqa: E402
from evaluator.mine.pipeline import select_posts  # noqa: E402

CORPUS = ROOT / "corpus_index" / "corpus.jsonl.gz"


def encoder_texts(annotator: LocalAnnotator, posts, annotations) -> list[str]:
    """The distinct texts an annotate call embeds: candidate sentences and relevant contexts."""
    texts = [s.quote for post in posts for s in annotator.read(post)[0]]
    texts += [annotator.context(p) for p, a in zip(posts, annotations, strict=True) if a.relevant]
    return list(dict.fromkeys(texts))


def annotate_all(annotator: LocalAnnotator, posts) -> list:
    size = annotator.batch_size
    return [a for i in range(0, len(posts), size) for a in annotator.annotate(posts[i : i + size])]


def compare(snapshot: Path, annotations) -> int:
    rows = [a.model_dump(mode="json", exclude={"annotator"}) for a in annotations]
    if not snapshot.is_file():
        snapshot.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
        print(f"wrote {len(rows)} annotations to {snapshot}")
        return 0
    before = [json.loads(line) for line in snapshot.read_text().splitlines()]
    if [r["id"] for r in before] != [r["id"] for r in rows]:
        print(f"{snapshot} holds other posts")
        return 1
    differ = [(b, r) for b, r in zip(before, rows, strict=True) if b != r]
    for b, r in differ[:10]:
        print(
            "DIFFERS", b["id"], "\n  before", json.dumps(b)[:400], "\n  after ", json.dumps(r)[:400]
        )
    print(f"{len(rows) - len(differ)}/{len(rows)} annotations identical to {snapshot}")
    return 1 if differ else 0


@contextlib.contextmanager
def _clock(times: list):
    """Append (wall s, process CPU s) of the block to `times`."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    times.append((time.perf_counter() - wall, time.process_time() - cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="posts (seeded sample of the corpus)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--profile", action="store_true", help="print the top of cProfile")
    parser.add_argument("--snapshot", type=Path, help="write or compare the annotations")
    parser.add_argument("--repeat", type=int, default=1, help="keep the fastest of R runs")
    args = parser.parse_args()

    posts = select_posts(args.corpus, sample=args.n, seed=args.seed)
    started = time.perf_counter()
    model = load_model()
    settings = load_settings()
    annotator = LocalAnnotator(load_codebook(settings.codebook), cache_dir=settings.cache_dir)
    annotator.annotate(posts[:1])  # fit or load the models, load the encoder
    print(f"setup {time.perf_counter() - started:.1f}s; {annotator.info.model}")

    annotate_t, encode_t = [], []
    for _ in range(args.repeat):
        with _clock(annotate_t):
            if args.profile:
                profile = cProfile.Profile()
                annotations = profile.runcall(annotate_all, annotator, posts)
            else:
                annotations = annotate_all(annotator, posts)
        texts = encoder_texts(annotator, posts, annotations)
        with _clock(encode_t):
            model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    (annotate_s, annotate_cpu), (encode_s, encode_cpu) = min(annotate_t), min(encode_t)

    relevant = sum(a.relevant for a in annotations)
    print(f"{len(posts)} posts ({relevant} relevant), {len(texts)} distinct texts to embed")
    print(f"(a) raw encoder:   {encode_s:6.1f}s wall, {encode_cpu:6.1f}s CPU")
    print(
        f"(b) annotator:     {annotate_s:6.1f}s wall, {annotate_cpu:6.1f}s CPU "
        f"({len(posts) / annotate_s:.1f} posts/s)"
    )
    wall, cpu = encode_s / annotate_s, encode_cpu / annotate_cpu
    print(f"ratio (a)/(b):     {wall:6.2f}x wall, {cpu:6.2f}x CPU")
    if args.profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    if args.snapshot:
        sys.exit(compare(args.snapshot, annotations))


if __name__ == "__main__":
    main()
