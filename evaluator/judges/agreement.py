"""Judge-human agreement: compare a score run with labels people gave the same transcripts.

Labels come as CSV or JSONL with `id, label[, criterion_id]`: rows without a criterion label a
whole transcript, rows with one label that criterion (`criterion` or `rubric/criterion`).
Labels are pass/fail, pass/partial/fail, or ordinal 0-2 (0 fail, 1 partial, 2 pass); a level
whose human labels include `partial` is ordinal, otherwise binary.

What the judge's side is:
* transcript, binary: the transcript verdict (pass/fail);
* transcript, ordinal: fail if the verdict fails, partial if it passes with any failing or
  partial criterion, else pass; Spearman is also given against the transcript score;
* criterion: the verdict's label; `not_applicable` and `unscored` verdicts are left out and
  counted; against binary human labels a judge's `partial` counts as `partial_as`.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from evaluator import __version__
from evaluator.errors import InputError
from evaluator.io import iter_jsonl, open_text, read_score_run
from evaluator.metrics import accuracy, cohen_kappa, confusion_matrix
from evaluator.types import AgreementLevel, AgreementReport, ScoreRun, TranscriptResult

__all__ = ["HumanLabel", "read_labels", "agreement", "agreement_files"]

ORDER = ("fail", "partial", "pass")
_LABELS = {
    "pass": "pass",
    "fail": "fail",
    "partial": "partial",
    "2": "pass",
    "1": "partial",
    "0": "fail",
    "true": "pass",
    "false": "fail",
}
_NOT_APPLICABLE = {"n/a", "na", "not_applicable", "not applicable", ""}

HumanLabel = tuple[str, str | None, str | None, int]  # (id, criterion or None, label, line)


def _normalise(raw: object, *, file: Path, line: int) -> str | None:
    text = str(raw).strip().lower() if raw is not None else ""
    if text.endswith(".0"):
        text = text[:-2]  # spreadsheets write ordinal labels as 2.0
    if text in _NOT_APPLICABLE:
        return None
    if text not in _LABELS:
        raise InputError(
            f"unknown label {raw!r}; use pass/partial/fail or 0/1/2",
            file=file,
            line=line,
            field="label",
        )
    return _LABELS[text]


def read_labels(path: str | Path) -> list[HumanLabel]:
    """Human labels from CSV (header `id,label[,criterion_id]`) or JSONL objects."""
    path = Path(path)
    with open_text(path) as handle:
        head = handle.read(4096).lstrip()
    rows: list[tuple[int, dict]] = []
    if head.startswith("{"):
        for line, obj in iter_jsonl(path):
            if not isinstance(obj, dict):
                raise InputError("expected a JSON object", file=path, line=line)
            rows.append((line, obj))
    else:
        with open_text(path) as handle:
            reader = csv.DictReader(handle)
            fields = [f.strip().lower() for f in reader.fieldnames or []]
            if "id" not in fields or "label" not in fields:
                raise InputError(
                    "labels need columns id and label (and optionally criterion_id)",
                    file=path,
                    line=1,
                )
            for row in reader:
                rows.append((reader.line_num, {k.strip().lower(): v for k, v in row.items() if k}))
    labels: list[HumanLabel] = []
    seen: dict[tuple[str, str | None], int] = {}
    for line, row in rows:
        transcript_id = row.get("id")
        if transcript_id is None or not str(transcript_id).strip():
            raise InputError("missing id", file=path, line=line, field="id")
        criterion = row.get("criterion_id") or row.get("criterion") or None
        criterion = str(criterion).strip() if criterion else None
        if "label" not in row:
            raise InputError("missing label", file=path, line=line, field="label")
        key = (str(transcript_id).strip(), criterion)
        if key in seen:
            raise InputError(
                f"{key[0]}{'/' + criterion if criterion else ''} is labelled twice "
                f"(first on line {seen[key]})",
                file=path,
                line=line,
            )
        seen[key] = line
        labels.append((key[0], criterion, _normalise(row["label"], file=path, line=line), line))
    if not labels:
        raise InputError("no labels in file", file=path)
    return labels


def _transcript_ordinal(result: TranscriptResult) -> str:
    if result.verdict == "fail":
        return "fail"
    if any(v.label in ("fail", "partial") for v in result.criteria):
        return "partial"
    return "pass"


def _verdict_for(result: TranscriptResult, criterion: str, *, file: str | None, line: int):
    if "/" in criterion:
        rubric_id, criterion_id = criterion.split("/", 1)
        matches = [
            v for v in result.criteria if (v.rubric_id, v.criterion_id) == (rubric_id, criterion_id)
        ]
    else:
        matches = [v for v in result.criteria if v.criterion_id == criterion]
    if len(matches) > 1:
        rubrics = ", ".join(f"{v.rubric_id}/{v.criterion_id}" for v in matches)
        raise InputError(
            f"criterion {criterion!r} is ambiguous in transcript {result.id!r} ({rubrics}); "
            "write rubric/criterion",
            file=file,
            line=line,
            field="criterion_id",
        )
    return matches[0] if matches else None


def _none_if_nan(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def _metrics(
    level: Literal["transcript", "criterion"],
    pairs: list[tuple[str, str, float | None]],
    *,
    ordinal: bool,
    missing: list[str],
    excluded: Counter,
) -> AgreementLevel:
    from scipy.stats import spearmanr

    labels = list(ORDER) if ordinal else ["fail", "pass"]
    human = [h for h, _, _ in pairs]
    judged = [j for _, j, _ in pairs]
    result = AgreementLevel(
        level=level,
        scale="ordinal" if ordinal else "binary",
        n=len(pairs),
        labels=labels,
        accuracy=round(accuracy(human, judged), 4),
        kappa=_none_if_nan(cohen_kappa(human, judged, labels)),
        confusion=confusion_matrix(human, judged, labels),
        missing=missing,
        excluded=dict(excluded),
    )
    if ordinal and len(pairs) > 2:
        rank = {label: index for index, label in enumerate(ORDER)}
        h = [rank[x] for x in human]
        result.weighted_kappa = _none_if_nan(
            cohen_kappa(human, judged, list(ORDER), weights="quadratic")
        )
        if len(set(h)) > 1 and len(set(judged)) > 1:
            rho, p = spearmanr(h, [rank[x] for x in judged])
            result.spearman, result.spearman_p = _none_if_nan(rho), _none_if_nan(p)
        scores = [s for _, _, s in pairs]
        if len(set(h)) > 1 and None not in scores and len(set(scores)) > 1:
            result.spearman_score = _none_if_nan(spearmanr(h, scores)[0])
    return result


def agreement(
    run: ScoreRun,
    labels: list[HumanLabel],
    *,
    partial_as: Literal["fail", "pass"] = "fail",
    scores_name: str = "",
    labels_name: str = "",
) -> AgreementReport:
    """Agreement per level (transcript, criterion) for the levels the labels cover."""
    by_id = {result.id: result for result in run.transcripts}
    levels = []
    for level in ("transcript", "criterion"):
        rows = [row for row in labels if (row[1] is None) == (level == "transcript")]
        if not rows:
            continue
        ordinal = any(label == "partial" for _, _, label, _ in rows)
        pairs: list[tuple[str, str, float | None]] = []
        per_criterion: dict[str, list[bool]] = {}
        missing: list[str] = []
        excluded: Counter[str] = Counter()
        for transcript_id, criterion, human, line in rows:
            name = transcript_id + (f"/{criterion}" if criterion else "")
            result = by_id.get(transcript_id)
            if result is None:
                missing.append(name)
                continue
            if human is None:
                excluded["human not_applicable"] += 1
                continue
            if criterion is None:
                judged = _transcript_ordinal(result) if ordinal else result.verdict
                if judged == "error":
                    excluded["judge error"] += 1
                    continue
                pairs.append((human, judged, result.score))
                continue
            verdict = _verdict_for(result, criterion, file=labels_name or None, line=line)
            if verdict is None:
                missing.append(name)
                continue
            if verdict.label in ("not_applicable", "unscored"):
                excluded[f"judge {verdict.label}"] += 1
                continue
            judged = verdict.label
            if judged == "partial" and not ordinal:
                judged = partial_as
            pairs.append((human, judged, verdict.score))
            per_criterion.setdefault(criterion, []).append(human == judged)
        if not pairs:
            raise InputError(
                f"no {level}-level label matches a scored item in the scores file "
                f"({len(missing)} labelled items not found)",
                file=labels_name or None,
            )
        metrics = _metrics(level, pairs, ordinal=ordinal, missing=missing, excluded=excluded)
        metrics.by_criterion = {
            name: {"n": len(hits), "accuracy": round(sum(hits) / len(hits), 4)}
            for name, hits in sorted(per_criterion.items())
        }
        levels.append(metrics)
    return AgreementReport(
        tool_version=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        scores=scores_name,
        labels=labels_name,
        judge=run.judge,
        partial_as=partial_as,
        levels=levels,
    )


def agreement_files(
    scores: str | Path, labels: str | Path, *, partial_as: Literal["fail", "pass"] = "fail"
) -> AgreementReport:
    """`mheval agreement SCORES.json LABELS`."""
    return agreement(
        read_score_run(scores),
        read_labels(labels),
        partial_as=partial_as,
        scores_name=str(scores),
        labels_name=str(labels),
    )
