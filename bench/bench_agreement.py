"""Agreement between two hand labellings of the same training posts, the second one blind.

    python bench/bench_agreement.py [SECOND.jsonl]

SECOND defaults to batch c's second labelling (bench/data/agreement/gold_c_second.jsonl); the
first labels of its posts are looked up by id in bench/data/mine_labelled/gold_*.jsonl (e.g.
gold_stuvwx_second.jsonl: the first 10 posts of batches s-x). Scores each labelling against the
other with the dev-set metrics of bench_local_annotator.py.
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

LABELLED = ROOT / "bench" / "data" / "mine_labelled"
SECOND = ROOT / "bench" / "data" / "agreement" / "gold_c_second.jsonl"


def load(path: Path) -> dict[str, dict]:
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row.pop("note", None)
        rows[row["id"]] = row
    return rows


def main() -> None:
    second = load(Path(sys.argv[1]) if len(sys.argv) > 1 else SECOND)
    labelled: dict[str, dict] = {}
    for path in sorted(LABELLED.glob("gold_*.jsonl")):
        labelled.update(load(path))
    first = {key: labelled[key] for key in second}
    pairs = (("second vs first", first, second), ("first vs second", second, first))
    for name, gold, other in pairs:
        predictions = {key: Annotation.model_validate(row) for key, row in other.items()}
        print(f"{name}: {summary_line(score(list(gold.values()), predictions))}")


if __name__ == "__main__":
    main()
