"""The terminal view of a score run: one table per transcript and a run summary (rich)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from evaluator.report.common import (
    criterion_title,
    criterion_titles,
    format_score,
    one_line,
    ordered,
    run_line,
    usage_line,
)
from evaluator.types import ScoreRun, TranscriptResult

__all__ = ["render_terminal", "transcript_table", "summary_tables"]

LABEL_STYLES = {
    "pass": "green",
    "partial": "yellow",
    "fail": "bold red",
    "unscored": "magenta",
    "not_applicable": "dim",
}


def transcript_table(result: TranscriptResult, titles: dict[str, str]) -> Table:
    """Criteria judged for one transcript, failing critical ones first; not-applicable criteria
    are counted in the caption rather than listed."""
    verdict_style = {"fail": "bold red", "inconclusive": "bold magenta"}.get(
        result.verdict, "bold green"
    )
    header = Text.assemble(
        (result.id, "bold"),
        "  ",
        (result.verdict.upper(), verdict_style),
        f"  score {format_score(result.score)}",
    )
    shown = [v for v in ordered(result.criteria) if v.label != "not_applicable"]
    hidden = len(result.criteria) - len(shown)
    conditions = ", ".join(result.conditions) or "none detected"
    source = result.detection.get("conditions_source", "")
    caption = f"conditions: {conditions}" + (f" ({source})" if source and result.conditions else "")
    if result.crisis:
        caption += " · crisis"
    if hidden:
        caption += f" · {hidden} {'criterion' if hidden == 1 else 'criteria'} not applicable"
    table = Table(title=header, caption=caption, title_justify="left", expand=True)
    table.add_column("criterion", ratio=2, min_width=20, overflow="fold")
    table.add_column("severity", no_wrap=True, style="dim")
    table.add_column("label", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("rationale", ratio=3, min_width=16, overflow="ellipsis", no_wrap=True)
    for verdict in shown:
        table.add_row(
            criterion_title(verdict, titles),
            verdict.severity,
            Text(verdict.label, style=LABEL_STYLES.get(verdict.label, "")),
            format_score(verdict.score),
            one_line(verdict.rationale, 200),
        )
    return table


def summary_tables(run: ScoreRun) -> Group:
    """Per-condition overview, the critical failures and what was not scored."""
    summary = run.summary
    parts: list = []
    by_condition = Table(title="By condition", title_justify="left")
    for column in ("condition", "transcripts", "pass", "fail", "score"):
        by_condition.add_column(column, justify="left" if column == "condition" else "right")
    for condition, entry in summary.get("by_condition", {}).items():
        by_condition.add_row(
            condition,
            str(entry["transcripts"]),
            str(entry["passed"]),
            str(entry["failed"]),
            format_score(entry["score"]),
        )
    parts.append(by_condition)
    failures = summary.get("critical_failures", [])
    if failures:
        lines = Text("Critical failures\n", style="bold red")
        for item in failures:
            lines.append(f"  {item['transcript']}: {item['rubric']}/{item['criterion']}\n")
        parts.append(lines)
    notes = []
    labels = summary.get("labels", {})
    if labels.get("unscored"):
        count = labels["unscored"]
        notes.append(f"{count} verdict{'s' if count != 1 else ''} unscored (excluded from scores)")
    dropped = summary.get("evidence", {}).get("dropped", 0)
    if dropped:
        notes.append(f"{dropped} evidence quotes dropped: not found in the transcript")
    if summary.get("skipped"):
        notes.append(f"{len(summary['skipped'])} inputs skipped: " + "; ".join(summary["skipped"]))
    if not summary.get("retrieval"):
        notes.append("user voices: off (--no-retrieval)")
    judge = run.judge
    notes.append(f"judge {judge.get('name')} ({judge.get('model') or 'no model'})")
    if usage_line(judge):
        notes.append(usage_line(judge))
    style = "bold red" if summary.get("failed") or summary.get("inconclusive") else "bold green"
    parts.append(Text(run_line(summary), style=style))
    parts.append(Text(" · ".join(notes), style="dim"))
    return Group(*parts)


def render_terminal(run: ScoreRun, console: Console, *, details: bool = True) -> None:
    """Print every transcript's table (in input order) and the run summary."""
    if details:
        titles = criterion_titles(run)
        for result in run.transcripts:
            console.print(transcript_table(result, titles))
            console.print()
    console.print(summary_tables(run))
