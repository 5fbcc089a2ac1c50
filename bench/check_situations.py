"""Check a situation-bank batch (and optionally its blind second labelling) before it is used.

    python bench/check_situations.py bench/data/situations/batch_a.jsonl [...]
    python bench/check_situations.py --second bench/data/situations/second/batch_a.jsonl
    python bench/check_situations.py --min-replies 10 bench/data/everyday/batch_x.jsonl

A batch row is one reply to one situation, labelled by reading (bench/data/situations/README.md).
Checks: the schema below; unique ids; every situation has >= 15 replies in >= 6 styles; a risk
situation has >= 4 appropriate and >= 4 inappropriate replies; an inappropriate reply names at
least one criterion it violates; every criterion id exists in the shipped rubrics; no situation
paraphrases one of the five scorer_dev stimuli (fuzzy match of the user text). Prints every
problem and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

CONDITIONS = {
    "general", "depressive", "anxiety", "bipolar", "schizophrenia_spectrum", "adhd", "autism",
    "eating", "conduct", "intellectual_disability", "other",
}  # fmt: skip
RISKS = {
    "means_methods",  # asks, directly or not, for a means, dose, place or quantity of self-harm
    "symptom_request",  # asks the bot to carry out what a symptom wants (ritual, reassurance, plan)
    "delusion_reinforcement",  # a delusional or grandiose belief to confirm or act on
    "paranoia_reinforcement",  # a request whose purpose is to act on a persecutory belief
    "mania_plan",  # a large, risky plan built on a manic surge
    "eating_disorder_coaching",  # restriction, purging, hiding, body-checking help
    "exclusive_reliance",  # wants the bot to replace people or treatment
    "crisis",  # suicidal ideation or self-harm disclosed; the reply must notice it
    "stigma",  # invites a stigmatising or blaming answer about a condition
    "harm_to_others",  # wants help hurting, exploiting or getting back at someone
    "everyday",  # an ordinary request where the right reply simply helps
}
STYLES = {
    "blunt_compliance", "hedged_compliance", "partial_compliance", "refusal_cold",
    "refusal_caring", "redirection", "reflection", "open_question", "reality_testing",
    "companion_warmth", "long_generic_list", "practical_help", "crisis_care", "psychoeducation",
    "collusion", "stigmatising", "dismissive", "empty", "off_topic",
    "structured_plan", "brief", "clarifying",  # the everyday negatives (bench/data/everyday)
}  # fmt: skip
FIELDS = {
    "id": str, "situation": str, "condition": str, "risk": str, "messages": list,
    "response": str, "style": str, "responder": str, "appropriate": bool, "violates": list,
    "rule": str, "labeller": str,
}  # fmt: skip
SECOND_FIELDS = {"id": str, "appropriate": bool, "violates": list, "rule": str, "labeller": str}


def criterion_ids() -> set[str]:
    ids = set()
    for path in (ROOT / "guidelines").glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for criterion in (data or {}).get("criteria", []) if isinstance(data, dict) else []:
            ids.add(criterion["id"])
    return ids


def _stimuli() -> list[str]:
    path = ROOT / "bench" / "data" / "scorer_dev" / "responses.jsonl"
    seen: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        seen.setdefault(row["stimulus"], " ".join(m["content"] for m in row["messages"]))
    return list(seen.values())


def read_rows(path: Path, problems: list[str]) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: not JSON ({exc})")
    return rows


def check_row(where: str, row: dict, criteria: set[str], fields: dict) -> list[str]:
    problems = []
    for name, kind in fields.items():
        if name not in row:
            problems.append(f"{where}: missing field {name!r}")
        elif not isinstance(row[name], kind):
            problems.append(f"{where}: field {name!r} must be {kind.__name__}")
    extra = set(row) - set(fields)
    if extra:
        problems.append(f"{where}: unknown fields {sorted(extra)}")
    if problems:
        return problems
    for criterion in row["violates"]:
        if criterion not in criteria:
            problems.append(f"{where}: violates names unknown criterion {criterion!r}")
    if not row["appropriate"] and not row["violates"]:
        problems.append(f"{where}: inappropriate but violates is empty")
    if not row["rule"].strip():
        problems.append(f"{where}: rule is empty")
    if fields is SECOND_FIELDS:
        return problems
    if row["condition"] not in CONDITIONS:
        problems.append(f"{where}: condition {row['condition']!r} is not a codebook condition")
    if row["risk"] not in RISKS:
        problems.append(f"{where}: risk {row['risk']!r} unknown (one of {sorted(RISKS)})")
    if row["style"] not in STYLES:
        problems.append(f"{where}: style {row['style']!r} unknown (one of {sorted(STYLES)})")
    messages = row["messages"]
    roles = {"user", "assistant"}
    if not messages or any(
        not isinstance(m, dict) or m.get("role") not in roles or not m.get("content")
        for m in messages
    ):
        problems.append(f"{where}: messages must be non-empty user/assistant turns with content")
    elif messages[-1]["role"] != "user":
        problems.append(f"{where}: the last message must be the user's")
    return problems


def check_batch(
    path: Path, criteria: set[str], stimuli: list[str], min_replies: int = 15
) -> list[str]:
    from rapidfuzz import fuzz

    problems: list[str] = []
    rows = read_rows(path, problems)
    ids: set[str] = set()
    by_situation: dict[str, list[dict]] = defaultdict(list)
    for number, row in rows:
        where = f"{path}:{number} ({row.get('id')})"
        problems += check_row(where, row, criteria, FIELDS)
        if row.get("id") in ids:
            problems.append(f"{where}: duplicate id")
        ids.add(row.get("id"))
        by_situation[row.get("situation")].append(row)
    for situation, members in by_situation.items():
        where = f"{path}: situation {situation!r}"
        if len(members) < min_replies:
            problems.append(f"{where}: {len(members)} replies, needs >= {min_replies}")
        styles = {m.get("style") for m in members}
        if len(styles) < 6:
            problems.append(f"{where}: {len(styles)} styles, needs >= 6")
        for key in ("condition", "risk"):
            if len({m.get(key) for m in members}) != 1:
                problems.append(f"{where}: rows disagree on {key}")
        labels = [m.get("appropriate") for m in members]
        if members[0].get("risk") != "everyday" and (
            labels.count(True) < 4 or labels.count(False) < 4
        ):
            problems.append(f"{where}: a risk situation needs >= 4 replies of each label")
        user_text = " ".join(
            m["content"] for m in members[0].get("messages", []) if isinstance(m, dict) and
            m.get("role") == "user" and isinstance(m.get("content"), str)
        )  # fmt: skip
        for stimulus in stimuli:
            if fuzz.token_set_ratio(user_text, stimulus) > 70:
                problems.append(f"{where}: too close to a scorer_dev stimulus: {stimulus[:60]!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--second", nargs="*", type=Path, default=[])
    parser.add_argument(
        "--min-replies", type=int, default=15, help="10 for the training-only everyday batches"
    )
    args = parser.parse_args(argv)
    criteria = criterion_ids()
    stimuli = _stimuli()
    problems: list[str] = []
    for path in args.files:
        problems += check_batch(path, criteria, stimuli, args.min_replies)
    for path in args.second:
        for number, row in read_rows(path, problems):
            problems += check_row(f"{path}:{number}", row, criteria, SECOND_FIELDS)
    for problem in problems:
        print(problem)
    total = len(args.files) + len(args.second)
    print(f"{total} file(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
