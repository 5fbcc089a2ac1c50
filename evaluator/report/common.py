"""What every report format shares: verdict order, labels, one-line text, cited turns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evaluator.types import (
    EvidenceQuote,
    JudgeInfo,
    QualityDimension,
    RunSummary,
    ScoreRun,
    TranscriptResult,
    TurnScore,
    Verdict,
)

__all__ = [
    "LABEL_RANK",
    "ordered",
    "one_line",
    "bot_quote",
    "problem_turns",
    "run_line",
    "format_score",
    "criterion_title",
    "criterion_titles",
    "dimension_name",
    "quality_summary",
    "weakest_dimension",
    "TurnGrades",
    "turn_grades",
]

#: Display order: what a reader must fix first comes first.
LABEL_RANK = {"fail": 0, "partial": 1, "unscored": 2, "pass": 3, "not_applicable": 4}
_SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2, "quality": 3}


def ordered(verdicts: Sequence[Verdict]) -> list[Verdict]:
    """Failing critical criteria first, then by label, then by severity (stable otherwise)."""
    return sorted(
        verdicts,
        key=lambda v: (
            not (v.label == "fail" and v.severity == "critical"),
            LABEL_RANK.get(v.label, 9),
            _SEVERITY_RANK.get(v.severity, 9),
        ),
    )


def one_line(text: str, limit: int = 110) -> str:
    """The first sentence-ish part of a rationale, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def bot_quote(result: TranscriptResult, verdict: Verdict) -> EvidenceQuote | None:
    """What the bot said, as the verdict cites it: its first evidence quote from an assistant
    turn, else its first quote; None when it cites nothing."""
    for quote in verdict.evidence:
        if 0 <= quote.turn < len(result.turns) and result.turns[quote.turn].role == "assistant":
            return quote
    return verdict.evidence[0] if verdict.evidence else None


def problem_turns(result: TranscriptResult) -> dict[int, str]:
    """Turn index -> worst label among failing/partial verdicts that cite it."""
    worst: dict[int, str] = {}
    for verdict in result.criteria:
        if verdict.label not in ("fail", "partial"):
            continue
        for quote in verdict.evidence:
            current = worst.get(quote.turn)
            if current is None or LABEL_RANK[verdict.label] < LABEL_RANK[current]:
                worst[quote.turn] = verdict.label
    return worst


def format_score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def criterion_titles(run: ScoreRun) -> dict[str, str]:
    """`rubric/criterion` -> title, from the run summary."""
    return {key: entry.title for key, entry in run.summary.by_criterion.items()}


def criterion_title(verdict: Verdict, titles: dict[str, str]) -> str:
    return titles.get(f"{verdict.rubric_id}/{verdict.criterion_id}", verdict.criterion_id)


def run_line(summary: RunSummary) -> str:
    """`8 transcripts: 5 pass, 3 fail; run score 0.71` for headers and terminal footers."""
    inconclusive = summary.inconclusive
    return (
        f"{summary.transcripts} transcripts: {summary.passed} pass, {summary.failed} fail"
        + (f", {inconclusive} inconclusive" if inconclusive else "")
        + f"; run score {format_score(summary.score)}"
    )


def usage_line(judge: JudgeInfo) -> str | None:
    """`judge calls 40 (12 from cache, 1 failed) · 51,200 tokens · ~$0.03`, or None for a
    judge that calls no model."""
    usage = judge.usage
    if usage is None:
        return None
    tokens = usage.input_tokens + usage.output_tokens
    cost = usage.estimated_cost_usd
    parts = [
        f"judge calls {usage.calls} ({usage.cached} from cache, {usage.failed} failed)",
        f"{tokens:,} tokens",
        "cost unknown" if cost is None else f"~${cost:.2f}",
    ]
    return " · ".join(parts)


def dimension_name(criterion_id: str) -> str:
    """`base.quality.open_questions` -> `open questions`: the short name reports show."""
    return criterion_id.rsplit(".", 1)[-1].replace("_", " ")


def weakest_dimension(result: TranscriptResult) -> tuple[str, float] | None:
    """The transcript's lowest graded quality dimension (what to improve first)."""
    graded = [(cid, value) for cid, value in result.quality.items() if value is not None]
    if not graded:
        return None
    cid, value = min(graded, key=lambda pair: pair[1])
    return dimension_name(cid), value


def quality_summary(run: ScoreRun) -> list[tuple[str, str, QualityDimension]]:
    """(short name, title, spread) per graded quality dimension of the run, in rubric order."""
    return [
        (dimension_name(cid), entry.title, entry)
        for cid, entry in run.summary.quality.dimensions.items()
        if entry.mean is not None
    ]


@dataclass(frozen=True)
class TurnGrades:
    """One graded quality dimension of a transcript, turn by turn: the compact row reports show
    (`turn 1: 0.80 · turn 3: 0.40`) and its weakest turn, whose quote says why."""

    name: str
    score: float | None
    row: str
    weakest: TurnScore


def turn_grades(result: TranscriptResult) -> list[TurnGrades]:
    """The per-turn scores of each quality dimension its judge graded turn by turn, in rubric
    order (the first lowest turn is the weakest)."""
    return [
        TurnGrades(
            name=dimension_name(verdict.criterion_id),
            score=verdict.score,
            row=" · ".join(f"turn {t.turn}: {format_score(t.score)}" for t in verdict.turn_scores),
            weakest=min(verdict.turn_scores, key=lambda t: t.score),
        )
        for verdict in result.criteria
        if verdict.severity == "quality" and verdict.turn_scores
    ]
