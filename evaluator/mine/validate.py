"""How well an annotator agrees with hand labels: `mheval mine validate PRED GOLD`.

Every gold post must have a prediction; a missing one is an error naming the ids (a silently
smaller denominator would flatter the annotator). Predicted posts absent from gold are ignored
and counted. A prediction that is an error row counts as "not relevant, no labels": the
annotator failed on that post, and the score should show it.

Fields and metrics (`evaluator.metrics`):
- relevance, crisis: binary; per-class precision/recall/F1, accuracy, Cohen's kappa, 2x2 matrix.
- conditions, perspectives, values: multilabel over all gold posts (a non-relevant post has no
  labels); per-label precision/recall/F1 and micro F1.
- post_sentiment: multiclass over gold-relevant posts, a missing prediction counting as `none`;
  accuracy, Cohen's kappa, confusion matrix, per-class scores.
Macro averages use only labels with at least `min_support` gold posts; every label is reported,
with `in_macro` saying whether it counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from evaluator import __version__
from evaluator.errors import InputError
from evaluator.io import iter_jsonl, validation_error_to_message
from evaluator.metrics import Counts, accuracy, binary_counts, cohen_kappa, confusion_matrix
from evaluator.types import FieldScore, LabelScore, PostSentiment, ValidationReport

__all__ = ["validate", "read_labels", "SENTIMENT_LABELS"]

SENTIMENT_LABELS = ["positive", "negative", "neutral", "mixed", "none"]
_MISSING_SHOWN = 10


class _ScoredFields(BaseModel):
    """The post-level fields that are scored. Other keys of an annotation row (impacts, notes
    of a human annotator, ...) are ignored, so gold files may carry comments."""

    model_config = ConfigDict(extra="ignore")

    id: str
    relevant: bool
    crisis: bool = False
    post_sentiment: PostSentiment | None = None
    conditions: list[str] = []
    perspectives: list[str] = []
    values: list[str] = []
    error: str | None = None


def read_labels(path: str | Path) -> dict[str, _ScoredFields]:
    """Annotation rows by id; malformed rows and duplicate ids name the file and line."""
    rows: dict[str, _ScoredFields] = {}
    for line, data in iter_jsonl(path):
        try:
            row = _ScoredFields.model_validate(data)
        except ValidationError as exc:
            field, message = validation_error_to_message(exc)
            raise InputError(message, file=path, line=line, field=field) from None
        if row.id in rows:
            raise InputError(f"duplicate id {row.id!r}", file=path, line=line, field="id")
        rows[row.id] = row
    if not rows:
        raise InputError("no annotations in the file", file=path)
    return rows


def _round(value: Any) -> float:
    return round(float(value), 4)


def _macro(scores: list[LabelScore]) -> tuple[float | None, float | None, float | None]:
    counted = [score for score in scores if score.in_macro]
    if not counted:
        return None, None, None
    n = len(counted)
    return (
        _round(sum(s.precision for s in counted) / n),
        _round(sum(s.recall for s in counted) / n),
        _round(sum(s.f1 for s in counted) / n),
    )


def _label_scores(
    gold: list[list[str]], pred: list[list[str]], labels: list[str], min_support: int
) -> list[LabelScore]:
    """Per-label scores; each post's gold and predicted labels are lists (of one label for a
    multiclass field)."""
    scores = []
    for label in labels:
        counts = binary_counts([label in row for row in gold], [label in row for row in pred])
        support = counts.tp + counts.fn
        scores.append(
            LabelScore(
                label=label,
                precision=_round(counts.precision),
                recall=_round(counts.recall),
                f1=_round(counts.f1),
                support=support,
                predicted=counts.tp + counts.fp,
                in_macro=support >= min_support,
            )
        )
    return scores


def _categorical(
    name: str, y_true: list[str], y_pred: list[str], labels: list[str], min_support: int
) -> FieldScore:
    scores = _label_scores([[v] for v in y_true], [[v] for v in y_pred], labels, min_support)
    macro_p, macro_r, macro_f = _macro(scores)
    kappa = cohen_kappa(y_true, y_pred, labels)
    return FieldScore(
        field=name,
        kind="binary" if len(labels) == 2 else "multiclass",
        posts=len(y_true),
        labels=scores,
        macro_precision=macro_p,
        macro_recall=macro_r,
        macro_f1=macro_f,
        accuracy=_round(accuracy(y_true, y_pred)) if y_true else None,
        # Kappa is undefined (None) when both sides use a single class.
        kappa=None if kappa is None else _round(kappa),
        confusion_labels=labels,
        confusion=confusion_matrix(y_true, y_pred, labels) if y_true else [],
    )


def _multilabel(
    name: str, gold: list[list[str]], pred: list[list[str]], min_support: int
) -> FieldScore:
    labels = sorted({label for row in gold + pred for label in row})
    scores = _label_scores(gold, pred, labels, min_support)
    macro_p, macro_r, macro_f = _macro(scores)
    micro = sum(
        (binary_counts([v in row for row in gold], [v in row for row in pred]) for v in labels),
        Counts(),
    )
    return FieldScore(
        field=name,
        kind="multilabel",
        posts=len(gold),
        labels=sorted(scores, key=lambda score: (-score.support, score.label)),
        macro_precision=macro_p,
        macro_recall=macro_r,
        macro_f1=macro_f,
        micro_f1=_round(micro.f1) if labels else None,
    )


def validate(
    pred_path: str | Path, gold_path: str | Path, *, min_support: int = 5
) -> ValidationReport:
    """Score predicted annotations against gold annotations (see the module docstring)."""
    if min_support < 1:
        raise InputError(f"must be at least 1, got {min_support}", field="min_support")
    pred = read_labels(pred_path)
    gold = read_labels(gold_path)
    missing = [post_id for post_id in gold if post_id not in pred]
    if missing:
        shown = ", ".join(missing[:_MISSING_SHOWN])
        more = f" and {len(missing) - _MISSING_SHOWN} more" if len(missing) > _MISSING_SHOWN else ""
        raise InputError(
            f"{len(missing)} gold post(s) have no prediction: {shown}{more}", file=pred_path
        )
    pairs = [(gold[post_id], pred[post_id]) for post_id in gold]

    def relevant(row: _ScoredFields) -> bool:
        return row.relevant and not row.error

    def labels_of(row: _ScoredFields, field: str) -> list[str]:
        # `none` (no value at stake) is the absence of a label, not a label to score.
        return [v for v in getattr(row, field) if v != "none"] if relevant(row) else []

    fields = [
        _categorical(
            "relevance",
            ["relevant" if relevant(g) else "not_relevant" for g, _ in pairs],
            ["relevant" if relevant(p) else "not_relevant" for _, p in pairs],
            ["relevant", "not_relevant"],
            min_support,
        ),
        *(
            _multilabel(
                field,
                [labels_of(g, field) for g, _ in pairs],
                [labels_of(p, field) for _, p in pairs],
                min_support,
            )
            for field in ("conditions", "perspectives", "values")
        ),
        _categorical(
            "crisis",
            ["crisis" if g.crisis else "no_crisis" for g, _ in pairs],
            ["crisis" if p.crisis and not p.error else "no_crisis" for _, p in pairs],
            ["crisis", "no_crisis"],
            min_support,
        ),
    ]
    sentiment_pairs = [(g, p) for g, p in pairs if relevant(g) and g.post_sentiment]
    fields.append(
        _categorical(
            "post_sentiment",
            [g.post_sentiment for g, _ in sentiment_pairs],
            [(p.post_sentiment if relevant(p) else None) or "none" for _, p in sentiment_pairs],
            SENTIMENT_LABELS,
            min_support,
        )
    )
    return ValidationReport(
        tool_version=__version__,
        pred=str(pred_path),
        gold=str(gold_path),
        posts=len(pairs),
        min_support=min_support,
        pred_errors=sum(1 for _, p in pairs if p.error),
        extra_pred=sum(1 for post_id in pred if post_id not in gold),
        fields=fields,
    )
