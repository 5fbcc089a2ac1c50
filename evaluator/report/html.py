"""A self-contained HTML report: inline CSS and an inline SVG chart, no scripts, no network.

Per transcript it shows the conversation with the spans that verdicts cite marked (failing ones
in red), each quality dimension turn by turn, each verdict with its evidence and the user voices
retrieved for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from markupsafe import Markup, escape

from evaluator.report.common import (
    LABEL_RANK,
    criterion_title,
    criterion_titles,
    format_score,
    ordered,
    problem_turns,
    quality_summary,
    run_line,
    turn_grades,
)
from evaluator.types import ScoreRun, TranscriptResult

__all__ = ["render_html", "condition_chart"]

_CHART_WIDTH = 720
_ROW = 30
_LABEL_WIDTH = 190
_BAR_WIDTH = 440


@dataclass(frozen=True)
class _Bar:
    label: str
    y: int
    score: float | None
    score_width: int
    pass_rate: float
    pass_width: int
    count: int


def condition_chart(run: ScoreRun) -> Markup:
    """Inline SVG: per condition, the mean transcript score and the share of passing
    transcripts, as two bars on a 0-1 scale."""
    entries = list(run.summary.by_condition.items())
    bars = []
    for row, (condition, entry) in enumerate(entries):
        bars.append(
            _Bar(
                label=condition,
                y=34 + row * (_ROW * 2),
                score=entry.score,
                score_width=round((entry.score or 0.0) * _BAR_WIDTH),
                pass_rate=entry.pass_rate,
                pass_width=round(entry.pass_rate * _BAR_WIDTH),
                count=entry.transcripts,
            )
        )
    height = 34 + len(bars) * _ROW * 2 + 10
    return Markup(
        _environment()
        .get_template("chart.svg.j2")
        .render(
            bars=bars,
            width=_CHART_WIDTH,
            height=height,
            label_width=_LABEL_WIDTH,
            bar_width=_BAR_WIDTH,
            row=_ROW,
            format_score=format_score,
        )
    )


def _highlight(text: str, spans: list[tuple[str, str]]) -> Markup:
    """Escape `text`, wrapping each quoted span in <mark class=LABEL>; where spans overlap the
    worse label wins."""
    ranks = [None] * len(text)
    for quote, label in spans:
        start = text.find(quote)
        while quote and start != -1:
            for position in range(start, start + len(quote)):
                current = ranks[position]
                if current is None or LABEL_RANK[label] < LABEL_RANK[current]:
                    ranks[position] = label
            start = text.find(quote, start + len(quote))
    out: list[str] = []
    position = 0
    while position < len(text):
        label = ranks[position]
        end = position
        while end < len(text) and ranks[end] == label:
            end += 1
        chunk = escape(text[position:end])
        out.append(f'<mark class="{label}">{chunk}</mark>' if label else str(chunk))
        position = end
    return Markup("".join(out))


def _anchor(*parts: object) -> str:
    return "-".join("".join(c if c.isalnum() else "-" for c in str(p)) for p in parts)


def _transcript_view(result: TranscriptResult, titles: dict[str, str], number: int) -> dict:
    spans: dict[int, list[tuple[str, str]]] = {}
    cited_by: dict[int, list[str]] = {}
    for verdict in result.criteria:
        if verdict.label in ("not_applicable", "unscored"):
            continue
        for quote in verdict.evidence:
            spans.setdefault(quote.turn, []).append((quote.quote, verdict.label))
            if verdict.label in ("fail", "partial"):
                cited_by.setdefault(quote.turn, []).append(criterion_title(verdict, titles))
    marked = problem_turns(result)
    base = f"t{number}"
    turns = [
        {
            "index": index,
            "role": turn.role,
            "html": _highlight(turn.content, spans.get(index, [])),
            "problem": marked.get(index),
            "cited_by": list(dict.fromkeys(cited_by.get(index, []))),
            "anchor": _anchor(base, "turn", index),
        }
        for index, turn in enumerate(result.turns)
    ]
    verdicts = [
        {
            "v": verdict,
            "title": criterion_title(verdict, titles),
            "score": format_score(verdict.score),
            "evidence": [
                {
                    "turn": quote.turn,
                    "quote": quote.quote,
                    "role": result.turns[quote.turn].role
                    if quote.turn < len(result.turns)
                    else "?",
                    "anchor": _anchor(base, "turn", quote.turn),
                }
                for quote in verdict.evidence
            ],
        }
        for verdict in ordered(result.criteria)
        if verdict.label != "not_applicable"
    ]
    not_applicable = [
        {"title": criterion_title(v, titles), "reason": v.rationale}
        for v in result.criteria
        if v.label == "not_applicable"
    ]
    return {
        "r": result,
        "anchor": base,
        "score": format_score(result.score),
        "turns": turns,
        "verdicts": verdicts,
        "turn_quality": [
            {"g": grade, "anchor": _anchor(base, "turn", grade.weakest.turn)}
            for grade in turn_grades(result)
        ],
        "not_applicable": not_applicable,
        "counts": {
            label: sum(v.label == label for v in result.criteria)
            for label in ("pass", "partial", "fail", "unscored")
        },
    }


@cache
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("evaluator.report", "templates"),
        autoescape=select_autoescape(["html", "j2", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(run: ScoreRun) -> str:
    """The whole report as one HTML document."""
    titles = criterion_titles(run)
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            run=run,
            summary=run.summary,
            run_line=run_line(run.summary),
            run_score=format_score(run.summary.score),
            chart=condition_chart(run),
            quality=quality_summary(run),
            transcripts=[
                _transcript_view(result, titles, number)
                for number, result in enumerate(run.transcripts)
            ],
            format_score=format_score,
        )
    )
