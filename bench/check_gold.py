"""Check a hand-labelled gold file against its posts and the codebook before it is used.

    python bench/check_gold.py POSTS.jsonl GOLD.jsonl

Checks: one gold row per post, same ids in the same order; every label id is in the shipped
codebook (guidelines/codebook.yaml); every supporting_quote is a verbatim substring of the post
with at least 5 words; post-level fields equal what the codebook derives from the impacts;
a non-relevant post has no impacts and a null post_sentiment. Prints every problem, exits 1 if
there is any.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.codebook import load_codebook  # noqa: E402
from evaluator.mine.base import derive_post_labels  # noqa: E402
from evaluator.types import AnnotatorInfo, Impact  # noqa: E402

_INFO = AnnotatorInfo(name="human", codebook_version="gold")

FIELDS = ("condition", "perspective", "value", "sentiment")


def derived(row: dict) -> dict:
    """The post-level fields the codebook derives from the row's impacts (mine's own rule)."""
    impacts = [Impact.model_validate(impact) for impact in row.get("impacts", [])]
    annotation = derive_post_labels("", impacts, crisis=False, annotator=_INFO)
    return annotation.model_dump(include={"post_sentiment", "conditions", "perspectives", "values"})


def check(posts_path: Path, gold_path: Path) -> list[str]:
    codebook = load_codebook(ROOT / "guidelines" / "codebook.yaml")
    allowed = {
        "condition": set(codebook.ids("conditions")),
        "perspective": set(codebook.ids("perspectives")),
        "value": set(codebook.ids("values")) | {"none"},
        "sentiment": {"positive", "negative", "neutral"},
        "product": {label.name or label.id for label in codebook.products} | {None},
    }
    posts = [json.loads(line) for line in posts_path.read_text(encoding="utf-8").splitlines()]
    problems: list[str] = []
    gold = []
    for number, line in enumerate(gold_path.read_text(encoding="utf-8").splitlines(), 1):
        try:
            gold.append(json.loads(line))
        except json.JSONDecodeError as exc:
            problems.append(f"{gold_path}:{number}: not JSON ({exc})")
    if [p["id"] for p in posts] != [g.get("id") for g in gold]:
        problems.append(f"{gold_path}: ids differ from {posts_path} (count or order)")
    texts = {p["id"]: p["text"] for p in posts}
    for number, row in enumerate(gold, 1):
        where = f"{gold_path}:{number} ({row.get('id')})"
        text = texts.get(row.get("id"), "")
        impacts = row.get("impacts", [])
        if not isinstance(row.get("relevant"), bool) or not isinstance(row.get("crisis"), bool):
            problems.append(f"{where}: relevant and crisis must be true/false")
        if row.get("relevant") != bool(impacts):
            problems.append(f"{where}: relevant={row.get('relevant')} but {len(impacts)} impacts")
        for index, impact in enumerate(impacts):
            quote = impact.get("supporting_quote", "")
            if quote not in text:
                problems.append(f"{where}: impacts.{index}.supporting_quote is not verbatim")
            if len(quote.split()) < 5:
                problems.append(f"{where}: impacts.{index}.supporting_quote has < 5 words")
            for key in (*FIELDS, "product"):
                if impact.get(key) not in allowed[key]:
                    problems.append(f"{where}: impacts.{index}.{key} unknown: {impact.get(key)!r}")
        if any(problem.startswith(f"{where}: impacts.") for problem in problems):
            continue  # the impacts are not valid, so nothing can be derived from them
        for key, value in derived(row).items():
            if row.get(key) != value:
                problems.append(f"{where}: {key} should be {value}")
    return problems


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    problems = check(Path(sys.argv[1]), Path(sys.argv[2]))
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
