"""Score the local annotator on the hand-labelled dev set, and time it on a corpus.

    python bench/bench_local_annotator.py                 # dev-set scores
    python bench/bench_local_annotator.py --errors        # ... plus disagreements per field
    python bench/bench_local_annotator.py --corpus corpus_index/corpus.jsonl.gz   # posts/s
    python bench/bench_local_annotator.py --cv 5          # k-fold over the labelled training posts
    python bench/bench_local_annotator.py --cv 5 --tune   # ... and a grid over the thresholds

The dev set (bench/data/mine_dev) is never trained on: the annotator learns from the labelled
posts of bench/data/mine_labelled (bench/fit_annotator.py fits the weights it ships on them).
`--cv K` measures on those instead, each fold scored by an annotator fitted on the other folds
(their gold is not the dev set's).

Metrics: precision/recall/F1 for `relevant` and `crisis` over all gold posts; macro-F1 (and
micro-F1) over the labels with >= 5 gold posts for conditions, perspectives and values, computed
over all gold posts (an irrelevant post has no labels); Cohen's kappa for post_sentiment over
the posts BOTH gold and the annotator call relevant (and, for reference, over all posts with
"not relevant" as a fourth class).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.codebook import load_codebook  # noqa: E402
from evaluator.config import load_settings  # noqa: E402
from evaluator.io import iter_jsonl  # noqa: E402
from evaluator.metrics import Counts, binary_counts, cohen_kappa  # noqa: E402
from evaluator.mine.local import LocalAnnotator  # noqa: E402
from evaluator.mine.local_model import (  # noqa: E402
    LABELLED_DIR,
    LabelledPost,
    load_labelled,
    post_from_row,
    training_embedder,
)

DEV = ROOT / "bench" / "data" / "mine_dev"
MIN_SUPPORT = 5


def prf(gold: list[bool], pred: list[bool]) -> tuple[float, float, float]:
    counts = binary_counts(gold, pred)
    return counts.precision, counts.recall, counts.f1


def multilabel(gold: list[list[str]], pred: list[list[str]]) -> tuple[float, float, dict]:
    support = Counter(label for labels in gold for label in set(labels))
    scored = sorted(label for label, n in support.items() if n >= MIN_SUPPORT)
    per_label = {}
    total = Counts()
    for label in scored:
        counts = binary_counts(
            [label in labels for labels in gold], [label in labels for labels in pred]
        )
        per_label[label] = (support[label], counts.precision, counts.recall, counts.f1)
        total += counts
    macro = sum(v[3] for v in per_label.values()) / len(per_label) if per_label else 0.0
    return macro, total.f1, per_label


def kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa, 0 for no posts and 1 when both sides use one and the same class."""
    value = cohen_kappa(a, b)
    if value is None:
        return 1.0 if a else 0.0
    return value


def score(gold_rows: list[dict], predictions: dict) -> dict:
    preds = [predictions[row["id"]] for row in gold_rows]
    result = {"posts": len(gold_rows)}
    for name in ("relevant", "crisis"):
        p, r, f = prf([bool(g[name]) for g in gold_rows], [getattr(x, name) for x in preds])
        result[name] = {"precision": p, "recall": r, "f1": f}
    for name in ("conditions", "perspectives", "values"):
        macro, micro, per_label = multilabel(
            [g[name] for g in gold_rows], [getattr(x, name) for x in preds]
        )
        result[name] = {"macro_f1": macro, "micro_f1": micro, "per_label": per_label}
    both = [(g, x) for g, x in zip(gold_rows, preds, strict=True) if g["relevant"] and x.relevant]
    result["post_sentiment"] = {
        "kappa_both_relevant": kappa(
            [g["post_sentiment"] for g, _ in both], [x.post_sentiment for _, x in both]
        ),
        "n": len(both),
        "kappa_all_null_as_class": kappa(
            [str(g["post_sentiment"]) for g in gold_rows], [str(x.post_sentiment) for x in preds]
        ),
    }
    return result


def show_errors(gold_rows: list[dict], predictions: dict, posts: dict) -> None:
    for g in gold_rows:
        x = predictions[g["id"]]
        diffs = []
        for name in ("relevant", "crisis", "post_sentiment"):
            if g[name] != getattr(x, name):
                diffs.append(f"{name}: gold={g[name]} pred={getattr(x, name)}")
        for name in ("conditions", "perspectives", "values"):
            if set(g[name]) != set(getattr(x, name)):
                diffs.append(f"{name}: gold={sorted(g[name])} pred={sorted(getattr(x, name))}")
        if diffs:
            print("=" * 100)
            print(g["id"], "|", posts[g["id"]].text[:500].replace("\n", " "))
            for line in diffs:
                print("   ", line)
            for impact in x.impacts:
                print(
                    "    PRED:",
                    impact.perspective,
                    impact.value,
                    impact.sentiment,
                    "|",
                    impact.supporting_quote[:150],
                )
            for impact in g["impacts"]:
                print(
                    "    GOLD:",
                    impact["perspective"],
                    impact["value"],
                    impact["sentiment"],
                    "|",
                    impact["supporting_quote"][:150],
                )


def summary_line(result: dict) -> str:
    return (
        f"n={result['posts']} relevance P/R/F1={result['relevant']['precision']:.2f}/"
        f"{result['relevant']['recall']:.2f}/{result['relevant']['f1']:.3f} "
        f"crisis F1={result['crisis']['f1']:.3f} "
        f"condition macro={result['conditions']['macro_f1']:.3f} "
        f"sentiment kappa={result['post_sentiment']['kappa_both_relevant']:.3f} "
        f"perspective micro={result['perspectives']['micro_f1']:.3f} "
        f"macro={result['perspectives']['macro_f1']:.3f} "
        f"value macro={result['values']['macro_f1']:.3f} micro={result['values']['micro_f1']:.3f}"
    )


GRID = {
    "relevance_threshold": (0.1, 0.2, 0.3),
    "impact_threshold": (0.15, 0.2, 0.3),
    "prior_power": tuple(
        {"perspectives": p, "values": v, "sentiments": s}
        for p, v in ((0.0, 0.0), (0.25, 0.25))
        for s in (0.0, 0.5, 1.0)
    ),
    "neutral_band": (0.1, 0.2, 0.3),
    "mixed_margin": (0.2, 0.3, 0.4, 0.5),
}


def cross_validate(
    labelled: list[LabelledPost], folds: int, tune: bool, unscored: set[str] = frozenset()
) -> None:
    """Pooled k-fold scores; with `tune`, one threshold at a time over GRID (coordinate search).
    Posts in `unscored` (a batch picked by keyword, not at random) are trained on, not scored."""
    embedder = training_embedder(remember=True)
    order = sorted(range(len(labelled)), key=lambda i: hash_id(labelled[i].post.id))
    fold_of = {index: rank % folds for rank, index in enumerate(order)}
    codebook = load_codebook(load_settings().codebook)
    annotators = []
    for fold in range(folds):
        train = [item for i, item in enumerate(labelled) if fold_of[i] != fold]
        test = [item for i, item in enumerate(labelled) if fold_of[i] == fold]
        annotator = LocalAnnotator(codebook, cache_dir=None, labelled=train, embedder=embedder)
        annotators.append((annotator, test))
    gold_rows = [
        json.loads(item.gold.model_dump_json()) for item in labelled if item.post.id not in unscored
    ]

    def run(settings: dict) -> dict:
        predictions = {}
        for annotator, test in annotators:
            for name, value in settings.items():
                setattr(annotator, name, value)
            scored = [item.post for item in test if item.post.id not in unscored]
            for annotation in annotator.annotate(scored):
                predictions[annotation.id] = annotation
        return score(gold_rows, predictions)

    settings = {name: getattr(LocalAnnotator, name) for name in GRID}
    result = run(settings)
    print("defaults", settings, summary_line(result))
    for name in ("conditions", "perspectives", "values"):
        per_label = result[name]["per_label"]
        print(f"  {name}: " + ", ".join(f"{k} {v[0]}/{v[3]:.2f}" for k, v in per_label.items()))
    if not tune:
        return
    objective = lambda r: (  # noqa: E731
        r["relevant"]["f1"]
        + r["post_sentiment"]["kappa_both_relevant"]
        + r["perspectives"]["micro_f1"]
        + r["perspectives"]["macro_f1"]
        + r["values"]["macro_f1"]
    )
    for name, values in GRID.items():
        scored = []
        for value in values:
            trial = {**settings, name: value}
            trial_result = run(trial)
            scored.append((objective(trial_result), value))
            print(f"  {name}={value}: {summary_line(trial_result)}")
        settings[name] = max(scored, key=lambda pair: pair[0])[1]
    print("best", settings, summary_line(run(settings)))


def hash_id(post_id: str) -> str:
    import hashlib

    return hashlib.sha1(post_id.encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="time the annotator on this corpus")
    parser.add_argument("--errors", action="store_true", help="print disagreements")
    parser.add_argument("--cv", type=int, metavar="K", help="k-fold over the labelled posts")
    parser.add_argument("--tune", action="store_true", help="with --cv: search the thresholds")
    parser.add_argument("--labelled", type=Path, help="labelled posts (default: mine_labelled)")
    parser.add_argument(
        "--train-only",
        default="g",
        help="batches (posts_<B>.jsonl) to train on but not score in --cv; default: g",
    )
    args = parser.parse_args()
    if args.cv:
        folder = args.labelled or LABELLED_DIR
        labelled = load_labelled(folder)
        unscored = {
            row["id"]
            for batch in filter(None, args.train_only.split(","))
            if (folder / f"posts_{batch}.jsonl").is_file()
            for _, row in iter_jsonl(folder / f"posts_{batch}.jsonl")
        }
        cross_validate(labelled, args.cv, args.tune, unscored)
        return

    started = time.perf_counter()
    settings = load_settings()
    annotator = LocalAnnotator(load_codebook(settings.codebook), cache_dir=settings.cache_dir)
    if args.corpus:
        posts = [post_from_row(row) for _, row in iter_jsonl(args.corpus)]
        annotator.annotate(posts[:1])  # load the model and train the classifiers
        ready = time.perf_counter()
        annotations = annotator.annotate(posts)
        elapsed = time.perf_counter() - ready
        relevant = sum(a.relevant for a in annotations)
        print(
            f"setup {ready - started:.1f}s; {len(posts)} posts in {elapsed:.1f}s "
            f"= {len(posts) / elapsed:.1f} posts/s; relevant {relevant}"
        )
        return

    posts = {row["id"]: post_from_row(row) for _, row in iter_jsonl(DEV / "posts.jsonl")}
    gold_rows = [row for _, row in iter_jsonl(DEV / "gold.jsonl")]
    ordered = [posts[row["id"]] for row in gold_rows]
    predictions = {a.id: a for a in annotator.annotate(ordered)}
    result = score(gold_rows, predictions)
    if args.errors:
        show_errors(gold_rows, predictions, posts)
    print(
        json.dumps(result, indent=1, default=lambda v: round(v, 3) if isinstance(v, float) else v)
    )
    print(summary_line(result))


if __name__ == "__main__":
    main()
