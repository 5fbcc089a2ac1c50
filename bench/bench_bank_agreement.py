"""Coder-coder agreement on the situation bank: first labels vs the blind second labelling.

    python bench/bench_bank_agreement.py

Pairs every row of bench/data/situations/second/batch_*.jsonl with its first label in the batch
of the same name; reports raw agreement and Cohen's kappa on `appropriate`, per batch and
pooled, and lists the disagreements (the calls to discuss in the batch notes).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluator.metrics import cohen_kappa  # noqa: E402

BANK = ROOT / "bench" / "data" / "situations"


def kappa(pairs: list[tuple[bool, bool]]) -> float | None:
    return cohen_kappa([a for a, _ in pairs], [b for _, b in pairs])


def read(path: Path) -> dict[str, dict]:
    return {row["id"]: row for row in map(json.loads, path.read_text().splitlines())}


def main() -> int:
    pooled: list[tuple[bool, bool]] = []
    report = {}
    for second_path in sorted((BANK / "second").glob("batch_*.jsonl")):
        first = read(BANK / second_path.name)
        second = read(second_path)
        pairs = [(first[i]["appropriate"], row["appropriate"]) for i, row in second.items()]
        pooled += pairs
        report[second_path.stem] = {
            "n": len(pairs),
            "agreement": round(sum(a == b for a, b in pairs) / len(pairs), 3),
            "kappa": round(kappa(pairs), 3),
            "disagreements": [
                {"id": i, "first": first[i]["rule"], "second": row["rule"]}
                for i, row in second.items()
                if first[i]["appropriate"] != row["appropriate"]
            ],
        }
    if pooled:
        report["pooled"] = {
            "n": len(pooled),
            "agreement": round(sum(a == b for a, b in pooled) / len(pooled), 3),
            "kappa": round(kappa(pooled), 3),
        }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
