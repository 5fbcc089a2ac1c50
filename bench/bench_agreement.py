"""Agreement between two hand labellings of the same posts (batch c, labelled twice, blind).

    python bench/bench_agreement.py

Scores each labelling against the other with the dev-set metrics of bench_local_annotator.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_local_annotator import score, summary_line  # noqa: E402

from evaluator.types import Annotation  # noqa: E402

FIRST = ROOT / "bench" / "data" / "mine_labelled" / "gold_c.jsonl"
SECOND = ROOT / "bench" / "data" / "agreement" / "gold_c_second.jsonl"


def load(path: Path) -> dict[str, dict]:
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row.pop("note", None)
        rows[row["id"]] = row
    return rows


def main() -> None:
    first, second = load(FIRST), load(SECOND)
    pairs = (("second vs first", first, second), ("first vs second", second, first))
    for name, gold, other in pairs:
        predictions = {key: Annotation.model_validate(row) for key, row in other.items()}
        print(f"{name}: {summary_line(score(list(gold.values()), predictions))}")


if __name__ == "__main__":
    main()
