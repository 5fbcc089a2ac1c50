"""The terminal views (rich) of a score run, a scenario run and a check.

A score run prints one line per transcript, or with `verbose` one table per transcript and its
quality turn by turn, then the run summary. The default fits a CI log: a failing transcript's
line names its failing critical criteria and quotes what the bot said."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from evaluator.report.common import (
    bot_quote,
    criterion_title,
    criterion_titles,
    format_score,
    one_line,
    ordered,
    quality_summary,
    run_line,
    turn_grades,
    usage_line,
    weakest_dimension,
)
from evaluator.types import ScoreRun, TranscriptResult, Verdict

__all__ = [
    "render_bless",
    "render_check",
    "render_run",
    "render_terminal",
    "summary_tables",
    "transcript_line",
    "transcript_table",
    "turn_quality",
]

LABEL_STYLES = {
    "pass": "green",
    "partial": "yellow",
    "fail": "bold red",
    "unscored": "magenta",
    "not_applicable": "dim",
}


VERDICT_STYLES = {
    "pass": "bold green",
    "fail": "bold red",
    "inconclusive": "bold magenta",
    "error": "bold magenta",
}
QUOTE_CHARS = 80


def _evidence_quote(result: TranscriptResult, verdict: Verdict) -> str | None:
    """`(turn 1): “…”` for what the bot said, as the verdict cites it (None: it cites nothing)."""
    quote = bot_quote(result, verdict)
    if quote is None:
        return None
    return f"(turn {quote.turn}): “{one_line(quote.quote, QUOTE_CHARS)}”"


def transcript_line(result: TranscriptResult, id_width: int = 0) -> Text:
    """One line: id, verdict, score; for a failing or inconclusive transcript its failing (or
    unscored) critical criteria, grouped by the evidence quote they share."""
    line = Text.assemble(
        (result.id.ljust(id_width), "bold"),
        "  ",
        (result.verdict.upper().ljust(4), VERDICT_STYLES.get(result.verdict, "bold")),
        f"  {format_score(result.score)}",
    )
    if result.quality_score is not None:
        line.append(f"  quality {format_score(result.quality_score)}", style="cyan")
        weakest = weakest_dimension(result)
        if weakest and weakest[1] < 0.5 and result.verdict == "pass":
            line.append(f" (weakest: {weakest[0]} {format_score(weakest[1])})", style="dim")
    if result.verdict == "error":
        line.append(f"  {one_line(result.error or 'could not be judged', 160)}", style="magenta")
        return line
    if result.verdict not in ("fail", "inconclusive"):
        return line
    groups: dict[str, list[str]] = {}
    for verdict in ordered(result.criteria):
        if verdict.severity != "critical" or verdict.label not in ("fail", "unscored"):
            continue
        name = verdict.criterion_id + (" unscored" if verdict.label == "unscored" else "")
        why = _evidence_quote(result, verdict) or f"({one_line(verdict.rationale or '-', 60)})"
        groups.setdefault(why, []).append(name)
    for index, (why, names) in enumerate(groups.items()):
        line.append("  " if index == 0 else " · ", style="dim")
        line.append(", ".join(names), style="red")
        line.append(f" {why}")
    return line


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
        *(
            [(f"  quality {format_score(result.quality_score)}", "cyan")]
            if result.quality_score is not None
            else []
        ),
    )
    shown = [v for v in ordered(result.criteria) if v.label != "not_applicable"]
    hidden = len(result.criteria) - len(shown)
    conditions = ", ".join(result.conditions) or "none detected"
    source = result.detection.conditions_source
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


def turn_quality(result: TranscriptResult) -> Text | None:
    """Each quality dimension's scores per assistant turn and its weakest turn's quote, one line
    each; None when no dimension was graded turn by turn."""
    grades = turn_grades(result)
    if not grades:
        return None
    text = Text("quality per turn", style="bold cyan")
    width = max(len(grade.name) for grade in grades)
    for grade in grades:
        weakest = grade.weakest
        text.append(f"\n  {grade.name.ljust(width)}  {grade.row}")
        quote = f": “{one_line(weakest.quote, 60)}”" if weakest.quote else ""
        text.append(f"  weakest turn {weakest.turn}{quote}", style="dim")
    return text


def summary_tables(run: ScoreRun, *, borders: bool = True) -> Group:
    """Per-condition overview, the critical failures and what was not scored; `borders=False`
    draws the per-condition table without box lines (the concise view)."""
    summary = run.summary
    parts: list = []
    by_condition = Table(
        title="By condition",
        title_justify="left",
        **({} if borders else {"box": None, "header_style": "bold", "pad_edge": False}),
    )
    for column in ("condition", "transcripts", "pass", "fail", "score"):
        by_condition.add_column(column, justify="left" if column == "condition" else "right")
    for condition, entry in summary.by_condition.items():
        by_condition.add_row(
            condition,
            str(entry.transcripts),
            str(entry.passed),
            str(entry.failed),
            format_score(entry.score),
        )
    parts.append(by_condition)
    dimensions = quality_summary(run)
    if dimensions:
        quality = Table(
            title="Quality (graded 0-1, never blocks)",
            title_justify="left",
            **({} if borders else {"box": None, "header_style": "bold", "pad_edge": False}),
        )
        for column in ("dimension", "mean", "min", "max"):
            quality.add_column(column, justify="left" if column == "dimension" else "right")
        for name, _, entry in dimensions:
            quality.add_row(name, *map(format_score, (entry.mean, entry.min, entry.max)))
        parts.append(quality)
    if summary.critical_failures:
        lines = Text("Critical failures\n", style="bold red")
        for item in summary.critical_failures:
            lines.append(f"  {item.transcript}: {item.rubric}/{item.criterion}\n")
        parts.append(lines)
    notes = []
    count = summary.labels.unscored
    if count:
        notes.append(f"{count} verdict{'s' if count != 1 else ''} unscored (excluded from scores)")
    if summary.evidence.dropped:
        notes.append(
            f"{summary.evidence.dropped} evidence quotes dropped: not found in the transcript"
        )
    if summary.skipped:
        notes.append(f"{len(summary.skipped)} inputs skipped: " + "; ".join(summary.skipped))
    if not summary.retrieval:
        notes.append("user voices: off (--no-retrieval)")
    judge = run.judge
    notes.append(f"judge {judge.name} ({judge.model or 'no model'})")
    if usage_line(judge):
        notes.append(usage_line(judge))
    style = "bold red" if summary.failed or summary.inconclusive else "bold green"
    parts.append(Text(run_line(summary), style=style))
    parts.append(Text(" · ".join(notes), style="dim"))
    return Group(*parts)


def render_terminal(
    run: ScoreRun, console: Console, *, details: bool = True, verbose: bool = False
) -> None:
    """Print each transcript (in input order), then the run summary. By default a transcript is
    one line (never wrapped, so a CI log keeps one line per transcript); `verbose` prints its
    table of criteria instead; `details=False` prints the summary alone."""
    if details and verbose:
        titles = criterion_titles(run)
        for result in run.transcripts:
            console.print(transcript_table(result, titles))
            turns = turn_quality(result)
            if turns is not None:
                console.print(turns)
            console.print()
    elif details and run.transcripts:
        width = max(len(result.id) for result in run.transcripts)
        for result in run.transcripts:
            console.print(transcript_line(result, width), soft_wrap=True)
        console.print()
    console.print(summary_tables(run, borders=verbose))


# --- runs and checks (`mheval run`, `mheval check`, `mheval baseline bless`) -----------------

_VERDICT_STYLE = {"pass": "green", "fail": "red", "error": "magenta"}


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def render_run(run, out: Path, console: Console) -> None:
    """A run: one row per scenario with what went wrong, then the score by condition."""
    results = {r.id: r for r in run.score.transcripts}
    table = Table(title="scenarios", title_justify="left", show_edge=False)
    table.add_column("scenario", no_wrap=True)
    for column in ("condition", "risk", "verdict", "score", "what went wrong"):
        table.add_column(column, justify="right" if column == "score" else "left")
    for outcome in run.outcomes:
        result = results.get(outcome.scenario_id)
        problems = []
        if outcome.error:
            problems.append(outcome.error)
        if result is not None:
            problems += [
                f"{v.criterion_id} failed (critical)"
                for v in result.criteria
                if v.severity == "critical" and v.label == "fail"
            ]
        problems += [
            f"expected {key.split('/', 1)[1]}: {label}"
            for key, label in outcome.expectations.items()
            if label != "pass"
        ]
        verdict = outcome.verdict or "-"
        style = _VERDICT_STYLE.get(verdict, "")
        table.add_row(
            escape(outcome.scenario_id),
            escape(outcome.condition),
            outcome.risk,
            f"[{style}]{verdict}[/{style}]" if style else verdict,
            _fmt(result.score if result else None),
            escape("; ".join(dict.fromkeys(problems))),
        )
    console.print(table)
    summary = run.summary
    by_condition = Table(title="by condition", title_justify="left", show_edge=False)
    for column in ("condition", "scenarios", "score", "passed", "failed"):
        by_condition.add_column(column, justify="left" if column == "condition" else "right")
    for condition, row in summary.by_condition.items():
        by_condition.add_row(
            escape(condition),
            str(row.transcripts),
            _fmt(row.score),
            str(row.passed),
            str(row.failed),
        )
    console.print()
    console.print(by_condition)
    unmet = len(summary.expectations.unmet)
    console.print(
        f"\n[bold]{summary.scenarios}[/bold] scenarios: "
        f"[green]{summary.passed} passed[/green], "
        f"[red]{summary.failed} failed[/red], "
        f"[magenta]{summary.errors} errors[/magenta]; "
        f"score {_fmt(summary.score)}; {unmet} unmet expectation(s); "
        f"judge {escape(run.score.judge.name)}; "
        f"{summary.timings.get('total', 0):.1f} s → {escape(str(out))}"
    )
    console.print(
        "[dim]`mheval run` records; gate with `mheval check RUN --baseline BASELINE`.[/dim]"
    )


def render_check(report, console: Console, err_console: Console) -> None:
    """A check: the score by condition and quality against the baseline, the criteria that
    changed, and why the gate passed or failed."""
    from evaluator.report.check import CHANGE_TITLES

    if report.conditions:
        table = Table(title="score by condition", title_justify="left", show_edge=False)
        for column in ("condition", "scenarios", "baseline", "now", "drop"):
            table.add_column(column, justify="left" if column == "condition" else "right")
        for c in report.conditions:
            drop = _fmt(c.drop)
            table.add_row(
                escape(c.condition),
                str(c.scenarios),
                _fmt(c.before),
                _fmt(c.after),
                f"[red]{drop}[/red]" if c.blocking else drop,
            )
        console.print(table)
    if report.quality:
        from evaluator.report.common import dimension_name

        table = Table(
            title="quality (graded, never blocks by default)", title_justify="left", show_edge=False
        )
        for column in ("dimension", "scenarios", "baseline", "now", "drop"):
            table.add_column(column, justify="left" if column == "dimension" else "right")
        for q in report.quality:
            drop = _fmt(q.drop)
            over = q.drop is not None and q.drop > report.max_drop
            style = "red" if q.blocking else "yellow" if over else ""
            table.add_row(
                dimension_name(q.dimension),
                str(q.scenarios),
                _fmt(q.before),
                _fmt(q.after),
                f"[{style}]{drop}[/{style}]" if style else drop,
            )
        console.print()
        console.print(table)
    if report.changes:
        table = Table(title="changes since the baseline", title_justify="left", show_edge=False)
        table.add_column("")
        table.add_column("scenario", no_wrap=True)
        for column in ("criterion", "change", "before → now", "why"):
            table.add_column(column)
        for c in report.changes:
            mark = (
                "[red]✗[/red]"
                if c.blocking
                else ("[green]✓[/green]" if c.change in ("improved", "fixed_error") else "·")
            )
            criterion = f"{c.rubric_id}/{c.criterion_id}" if c.criterion_id else "-"
            if c.severity == "critical":
                criterion += " [bold](critical)[/bold]"
            why = " ".join(c.rationale.split())
            table.add_row(
                mark,
                escape(c.scenario_id),
                criterion,
                CHANGE_TITLES[c.change],
                f"{c.before or '-'} → {c.after or '-'}",
                escape(why[:100] + ("…" if len(why) > 100 else "")),
            )
        console.print()
        console.print(table)
    else:
        console.print("no criterion changed since the baseline")
    for warning in report.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    console.print(
        f"\noverall {_fmt(report.overall_before)} → {_fmt(report.overall_after)}: "
        + (
            "[green bold]check passed[/green bold]"
            if report.passed
            else "[red bold]check failed[/red bold]"
        )
    )
    for reason in report.reasons:
        console.print(f"  [red]•[/red] {escape(reason)}")


def render_bless(blessed, run: Path, out: Path, console: Console) -> None:
    """One line: which run became which baseline."""
    console.print(
        f"blessed {escape(str(run))} → {escape(str(out))} "
        f"({len(blessed.outcomes)} scenarios, score {_fmt(blessed.summary.score)}, "
        f"target {escape(blessed.target.spec)})"
    )
