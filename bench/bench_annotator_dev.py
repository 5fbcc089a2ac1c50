"""The local annotator on the whole dev set, with bootstrap CIs, a keyword baseline and the
coder-coder ceiling side by side (issue 16's honest protocol).

    python bench/bench_annotator_dev.py [--second DIR]

Dev set: every `posts*.jsonl` / `gold*.jsonl` pair of bench/data/mine_dev (the 170 posts of
batches a-b and the seeded batches c-f drawn by bench/draw_posts.py, disjoint by text from every
training post). Reported for the fresh batches alone (never looked at while anything was tuned),
for the first 170, and for all. The keyword rule calls a post relevant when a codebook
mental-health cue or condition occurs within 300 characters of a chatbot name or word (AI,
bot, app, chatbot, companion...). The ceiling
scores the blind second labels (`gold_<B>_second.jsonl` beside `posts_<B>_second.jsonl` in
--second, default bench/data/agreement) against the first labels with the same metrics.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from bench_local_annotator import score  # noqa: E402

from evaluator.io import iter_jsonl  # noqa: E402

DEV = ROOT / "bench" / "data" / "mine_dev"
RESAMPLES = 1000
_WINDOW = 300
_CHATBOT_WORDS = re.compile(
    r"\b(?:chat ?bots?|ai|a\.i\.|bots?|apps?|companions?|assistants?|llms?|gpt|chat)\b", re.I
)


def headline(result: dict) -> dict[str, float]:
    return {
        "relevance F1": result["relevant"]["f1"],
        "crisis F1": result["crisis"]["f1"],
        "condition macro-F1": result["conditions"]["macro_f1"],
        "sentiment kappa": result["post_sentiment"]["kappa_both_relevant"],
        "perspective micro-F1": result["perspectives"]["micro_f1"],
        "perspective macro-F1": result["perspectives"]["macro_f1"],
        "value macro-F1": result["values"]["macro_f1"],
    }


def with_ci(gold_rows: list[dict], predictions: dict, seed: int = 20261207) -> dict:
    """Each headline figure and its percentile bootstrap 95% CI over posts."""
    point = headline(score(gold_rows, predictions))
    rng = np.random.default_rng(seed)
    samples = {name: [] for name in point}
    for _ in range(RESAMPLES):
        pick = rng.integers(0, len(gold_rows), len(gold_rows))
        rows = [dict(gold_rows[i], id=f"{gold_rows[i]['id']}#{n}") for n, i in enumerate(pick)]
        preds = {
            f"{gold_rows[i]['id']}#{n}": predictions[gold_rows[i]["id"]] for n, i in enumerate(pick)
        }
        for name, value in headline(score(rows, preds)).items():
            samples[name].append(value)
    return {
        name: (value, *np.percentile(samples[name], [2.5, 97.5])) for name, value in point.items()
    }


def dev_batches() -> dict[str, tuple[list[dict], list[dict]]]:
    batches = {}
    for posts_file in sorted(DEV.glob("posts*.jsonl")):
        gold_file = posts_file.with_name(posts_file.name.replace("posts", "gold", 1))
        if gold_file.is_file():
            posts = [row for _, row in iter_jsonl(posts_file)]
            gold = [row for _, row in iter_jsonl(gold_file)]
            if [p["id"] for p in posts] == [g["id"] for g in gold]:
                batches[posts_file.stem.replace("posts", "") or "_ab"] = (posts, gold)
            else:
                print(f"skipping {gold_file.name}: ids differ from {posts_file.name}")
    return batches


def keyword_rule(posts: list[dict]) -> dict:
    """Relevant when a mental-health cue or condition is near a chatbot name (no model)."""
    from evaluator.codebook import PhraseMatcher, find_mentions, load_codebook

    codebook = load_codebook(ROOT / "guidelines" / "codebook.yaml")
    products = [PhraseMatcher(p.id, p.cues, p.exact_case) for p in codebook.products]
    cues = PhraseMatcher("mh", [c for rule in codebook.relevance.include for c in rule.cues])
    out = {}
    for post in posts:
        text = post["text"]
        bots = [m.start for matcher in products for m in matcher.find(text)]
        bots += [m.start() for m in _CHATBOT_WORDS.finditer(text)]
        conditions, crisis = find_mentions(text, codebook)
        mental = [m.start for m in (*cues.find(text), *conditions, *crisis)]
        relevant = any(abs(a - b) <= _WINDOW for a in bots for b in mental)
        out[post["id"]] = SimpleNamespace(
            relevant=relevant,
            crisis=bool(crisis),
            post_sentiment=None,
            conditions=[],
            perspectives=[],
            values=[],
        )
    return out


def _print(title: str, figures: dict) -> None:
    print(title)
    for name, (value, low, high) in figures.items():
        print(f"  {name:22s} {value:.3f} [{low:.3f}, {high:.3f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--second", type=Path, default=ROOT / "bench" / "data" / "agreement")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from evaluator.config import load_settings, setup_offline_env

    setup_offline_env()
    from evaluator.codebook import load_codebook
    from evaluator.mine.local import LocalAnnotator
    from evaluator.mine.local_model import post_from_row

    batches = dev_batches()
    posts = [p for ps, _ in batches.values() for p in ps]
    gold = {g["id"]: g for _, gs in batches.values() for g in gs}
    settings = load_settings()
    annotator = LocalAnnotator(load_codebook(settings.codebook), cache_dir=settings.cache_dir)
    predictions = {a.id: a for a in annotator.annotate([post_from_row(p) for p in posts])}
    keywords = keyword_rule(posts)
    fresh = [g for name, (_, gs) in batches.items() if name != "_ab" for g in gs]
    first = list(batches.get("_ab", ([], []))[1])
    figures: dict = {"batches": {k: len(v[0]) for k, v in batches.items()}}
    for title, rows in (
        ("fresh batches (c-f)", fresh),
        ("first 170 (a-b)", first),
        ("all", list(gold.values())),
    ):
        if rows:
            figures[title] = with_ci(rows, predictions)
            _print(f"local annotator, {title}: {len(rows)} posts", figures[title])
    rows = list(gold.values())
    relevance = with_ci(rows, keywords)["relevance F1"]
    figures["keyword rule relevance F1 (all)"] = relevance
    print(
        f"keyword rule, all {len(rows)} posts: relevance F1 {relevance[0]:.3f} "
        f"[{relevance[1]:.3f}, {relevance[2]:.3f}]"
    )
    seconds = []
    for gold_file in (
        sorted(args.second.glob("gold_*_second.jsonl")) if args.second.is_dir() else []
    ):
        seconds += [row for _, row in iter_jsonl(gold_file) if row["id"] in gold]
    if seconds:
        second = {row["id"]: SimpleNamespace(**row) for row in seconds}
        firsts = [gold[row["id"]] for row in seconds]
        figures["ceiling"] = with_ci(firsts, second)
        _print(
            f"coder-coder ceiling (second labels vs first), {len(seconds)} posts",
            figures["ceiling"],
        )
        figures["annotator on the same posts"] = with_ci(firsts, predictions)
        _print("local annotator on the same posts", figures["annotator on the same posts"])
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1, default=float), encoding="utf-8")


if __name__ == "__main__":
    main()
