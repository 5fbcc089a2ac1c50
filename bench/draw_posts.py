"""Draw a seeded sample of corpus posts for hand labelling, disjoint by text from labelled posts.

    python bench/draw_posts.py CORPUS.jsonl --seed 20261207 --n 340 --names c,d,e,f --out DIR
        [--keywords adhd,autism] [--exclude DIR]

Every text already in the dev set (bench/data/mine_dev), in the annotator's labelled batches or in
an earlier draw passed with --exclude is left out, so a drawn dev batch stays a fair test. With
--keywords the draw is targeted (training only: its label mix is not the corpus's). Writes
DIR/posts_<NAME>.jsonl in batches of --batch posts, named from --names.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELLED = [ROOT / "bench" / "data" / "mine_dev", ROOT / "bench" / "data" / "mine_labelled"]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def labelled_texts(extra: list[Path]) -> set[str]:
    texts: set[str] = set()
    for folder in [*LABELLED, *extra]:
        if not folder.exists():
            continue
        for path in sorted(folder.glob("posts*.jsonl")) if folder.is_dir() else [folder]:
            for line in path.read_text(encoding="utf-8").splitlines():
                texts.add(_norm(json.loads(line)["text"]))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--batch", type=int, default=85)
    parser.add_argument("--names", required=True, help="comma-separated batch names")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--keywords", default="", help="comma-separated regexes; a post must match one"
    )
    parser.add_argument("--exclude", type=Path, action="append", default=[])
    args = parser.parse_args()

    seen = labelled_texts(args.exclude)
    posts = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines()]
    pattern = re.compile("|".join(args.keywords.split(",")), re.I) if args.keywords else None
    pool, kept = [], set()
    for post in posts:
        key = _norm(post["text"])
        if key in seen or key in kept or (pattern and not pattern.search(post["text"])):
            continue
        kept.add(key)
        pool.append(post)
    random.Random(args.seed).shuffle(pool)
    drawn = pool[: args.n]
    names = args.names.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    for number, name in enumerate(names):
        chunk = drawn[number * args.batch : (number + 1) * args.batch]
        with (args.out / f"posts_{name}.jsonl").open("w", encoding="utf-8") as handle:
            for post in chunk:
                handle.write(json.dumps(post, ensure_ascii=False) + "\n")
        print(f"{name}: {len(chunk)} posts (pool {len(pool)})")


if __name__ == "__main__":
    main()
