"""A Markdown report a person reads: run overview, then per transcript the conversation with the
turns that failing criteria cite marked, and each verdict with its evidence and user voices."""

from __future__ import annotations

from evaluator.report.common import (
    criterion_title,
    criterion_titles,
    format_score,
    ordered,
    problem_turns,
    quality_summary,
    run_line,
    turn_grades,
)
from evaluator.types import ScoreRun, TranscriptResult, Verdict

__all__ = ["render_markdown"]

_LABEL_ICON = {
    "pass": "✅ pass",
    "partial": "🟡 partial",
    "fail": "❌ fail",
    "unscored": "❔ unscored",
    "not_applicable": "➖ n/a",
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _quote_block(text: str) -> list[str]:
    return [f"> {line}" if line.strip() else ">" for line in text.splitlines() or [""]]


def _overview(run: ScoreRun) -> list[str]:
    summary = run.summary
    judge = run.judge
    lines = [
        "# mheval score report",
        "",
        f"**{run_line(summary)}**",
        "",
        f"- judge: `{judge.name}` (model `{judge.model or 'none'}`, version {judge.version})",
        f"- rubrics: {', '.join(f'`{k}` {v}' for k, v in run.rubrics.items())}",
        f"- codebook: {run.codebook or 'n/a'} · mheval {run.tool_version} · {run.created_at}",
        f"- user voices: {'on' if summary.retrieval else 'off'}",
        "",
        "## By condition",
        "",
        "| condition | transcripts | pass | fail | mean score |",
        "|---|---:|---:|---:|---:|",
    ]
    for condition, entry in summary.by_condition.items():
        lines.append(
            f"| {condition} | {entry.transcripts} | {entry.passed} | {entry.failed} "
            f"| {format_score(entry.score)} |"
        )
    dimensions = quality_summary(run)
    if dimensions:
        lines += ["", "## Quality (graded 0-1, never blocks)", ""]
        lines += ["| dimension | mean | min | max |", "|---|---:|---:|---:|"]
        for name, title, entry in dimensions:
            lines.append(
                f"| {_cell(title)} (`{name}`) | {format_score(entry.mean)} | "
                f"{format_score(entry.min)} | {format_score(entry.max)} |"
            )
    lines += ["", "## Transcripts", "", "| transcript | verdict | score | quality | conditions |"]
    lines.append("|---|---|---:|---:|---|")
    for result in run.transcripts:
        anchor = _anchor(result.id)
        lines.append(
            f"| [{_cell(result.id)}](#{anchor}) | {result.verdict} | "
            f"{format_score(result.score)} | {format_score(result.quality_score)} | "
            f"{', '.join(result.conditions) or '—'}"
            f"{' · crisis' if result.crisis else ''} |"
        )
    if summary.critical_failures:
        lines += ["", "## Critical failures", ""]
        for item in summary.critical_failures:
            lines.append(f"- `{item.transcript}`: {item.rubric}/{item.criterion}")
    if summary.by_value:
        lines += ["", "## By value", "", "| value | verdicts | fail | mean score |"]
        lines.append("|---|---:|---:|---:|")
        for value, entry in summary.by_value.items():
            lines.append(
                f"| {value} | {entry.scored} | {entry.fail} | {format_score(entry.score)} |"
            )
    if summary.by_criterion:
        lines += ["", "## By criterion", ""]
        lines.append("| criterion | severity | judged | pass | partial | fail | unscored | mean |")
        lines.append("|---|---|---:|---:|---:|---:|---:|---:|")
        for key, entry in summary.by_criterion.items():
            lines.append(
                f"| {_cell(entry.title)} (`{key}`) | {entry.severity} | {entry.scored} "
                f"| {entry.pass_} | {entry.partial} | {entry.fail} | {entry.unscored} "
                f"| {format_score(entry.score)} |"
            )
    notes = []
    if summary.unscored:
        notes.append(f"{len(summary.unscored)} verdicts unscored (excluded from scores)")
    if summary.evidence.dropped:
        notes.append(f"{summary.evidence.dropped} evidence quotes dropped (not in the transcript)")
    for skipped in summary.skipped:
        notes.append(f"skipped: {skipped}")
    if notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in notes]]
    return lines


def _anchor(transcript_id: str) -> str:
    return "t-" + "".join(c if c.isalnum() else "-" for c in transcript_id.lower())


def _verdict(verdict: Verdict, titles: dict[str, str], result: TranscriptResult) -> list[str]:
    title = criterion_title(verdict, titles)
    lines = [
        f"#### {_LABEL_ICON.get(verdict.label, verdict.label)} · {title} "
        f"({verdict.severity}, score {format_score(verdict.score)})",
        "",
        f"`{verdict.rubric_id}/{verdict.criterion_id}` — {verdict.rationale or 'no rationale'}",
        "",
    ]
    for quote in verdict.evidence:
        role = result.turns[quote.turn].role if quote.turn < len(result.turns) else "?"
        lines.append(f"- evidence, turn {quote.turn} ({role}): “{_cell(quote.quote)}”")
    if verdict.user_voices:
        lines += ["", "What people with this experience say:", ""]
        for voice in verdict.user_voices:
            tags = ", ".join(t for t in (voice.condition, voice.sentiment, voice.value) if t)
            lines.append(
                f"> “{_cell(voice.quote)}” — `{voice.id}` ({tags}; similarity "
                f"{voice.similarity:.2f})"
            )
            lines.append(">")
        lines.pop()
    lines.append("")
    return lines


def _header(result: TranscriptResult) -> list[str]:
    return [
        f'<a id="{_anchor(result.id)}"></a>',
        "",
        f"## {result.id} — {result.verdict.upper()} (score {format_score(result.score)}"
        + (
            f", quality {format_score(result.quality_score)})"
            if result.quality_score is not None
            else ")"
        ),
        "",
    ]


def _turn_quality(result: TranscriptResult) -> list[str]:
    """Each quality dimension's score per assistant turn, with the weakest turn's quote."""
    grades = turn_grades(result)
    if not grades:
        return []
    lines = [
        "### Quality per turn",
        "",
        "| dimension | score | per turn | weakest turn |",
        "|---|---:|---|---|",
    ]
    for grade in grades:
        weakest = grade.weakest
        quote = f": “{_cell(weakest.quote)}”" if weakest.quote else ""
        lines.append(
            f"| {grade.name} | {format_score(grade.score)} | {grade.row} | "
            f"turn {weakest.turn}{quote} |"
        )
    return [*lines, ""]


def _transcript(result: TranscriptResult, titles: dict[str, str]) -> list[str]:
    lines = _header(result)
    facts = [f"conditions: {', '.join(result.conditions) or 'none'}"]
    if result.detection.conditions_source:
        facts[0] += f" ({result.detection.conditions_source})"
    facts.append(f"crisis: {'yes' if result.crisis else 'no'}")
    for key in ("bot", "prompt_version"):
        if key in result.metadata:
            facts.append(f"{key}: {result.metadata[key]}")
    if result.source:
        facts.append(f"source: `{result.source}`")
    lines += [" · ".join(facts), ""]
    if result.detection.reasons:
        lines += ["Detected from: " + "; ".join(result.detection.reasons), ""]
    marked = problem_turns(result)
    if result.turns:
        lines += ["### Conversation", ""]
        for index, turn in enumerate(result.turns):
            flag = ""
            if index in marked:
                flag = (
                    " ⚠️ **cited by a failing criterion**"
                    if marked[index] == "fail"
                    else (" ⚠️ cited by a partial criterion")
                )
            lines.append(f"**[{index}] {turn.role}**{flag}")
            lines.append("")
            lines += _quote_block(turn.content)
            lines.append("")
    lines += _turn_quality(result)
    lines += ["### Verdicts", ""]
    applicable = [v for v in ordered(result.criteria) if v.label != "not_applicable"]
    for verdict in applicable:
        lines += _verdict(verdict, titles, result)
    skipped = [v for v in result.criteria if v.label == "not_applicable"]
    if skipped:
        lines += ["Not applicable:", ""]
        lines += [f"- {criterion_title(v, titles)}: {v.rationale}" for v in skipped]
        lines.append("")
    return lines


#: A GitHub comment holds 65,536 characters; leave room for what CI wraps around the report.
DEFAULT_MAX_CHARS = 60_000
_ORDER = {"fail": 0, "inconclusive": 1, "error": 2, "pass": 3}


def _compact(result: TranscriptResult, titles: dict[str, str]) -> list[str]:
    """A transcript in a few lines: its header and the verdicts that did not pass."""
    lines = _header(result)
    lines += [
        "_Shortened to fit the size budget: the conversation is in the HTML or JSON report._",
        "",
    ]
    for verdict in ordered(result.criteria):
        if verdict.label in ("fail", "partial", "unscored"):
            lines += _verdict(verdict.model_copy(update={"user_voices": []}), titles, result)
    return lines


def render_markdown(run: ScoreRun, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The report as GitHub-flavoured Markdown within `max_chars`: the overview, then failing
    and inconclusive transcripts before passing ones; a transcript that does not fit whole is
    shortened to its failing verdicts, and what still does not fit is named, not cut mid-way."""
    titles = criterion_titles(run)
    text = "\n".join(_overview(run)).rstrip() + "\n"
    results = sorted(run.transcripts, key=lambda r: _ORDER.get(r.verdict, 9))
    left_out: list[str] = []
    reserve = 400  # room for the closing note
    for result in results:
        for render in (_transcript, _compact):
            section = "\n".join(["", "---", "", *render(result, titles)]).rstrip() + "\n"
            if len(text) + len(section) + reserve <= max_chars:
                text += section
                break
        else:
            left_out.append(result.id)
    if left_out:
        shown = ", ".join(f"`{i}`" for i in left_out[:10]) + (" ..." if len(left_out) > 10 else "")
        text += (
            f"\n---\n\n{len(left_out)} more transcript(s) left out to stay under "
            f"{max_chars:,} characters: {shown}. The HTML and JSON reports have them all.\n"
        )
    return text
