"""The pull-request comment of the CI gate: what `mheval check` decided first, then each blocking
failure folded in `<details>` with the conversation turns its evidence cites, then a link to the
full HTML report. Reviewers see the verdict at a glance and open only what they need."""

from __future__ import annotations

import html

from evaluator.report.check import CHANGE_TITLES, render_check_markdown
from evaluator.types import CheckReport, RunRecord, TranscriptResult

__all__ = ["pr_comment"]

# GitHub rejects comments over 65,536 characters; the summary must always fit beside these.
_MAX_FOLDED = 25
_MAX_TURN_CHARS = 600


def _quote(role: str, number: int, text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_TURN_CHARS:
        text = text[:_MAX_TURN_CHARS] + " …"
    return f"> **{role}** (turn {number}): {html.escape(text, quote=False)}"


def _cited_turns(result: TranscriptResult, keys: set[tuple[str | None, str | None]]):
    """The verdicts for `keys` (rubric, criterion) and the turns to show: each turn they cite,
    after the user turn it answers."""
    verdicts = [v for v in result.criteria if (v.rubric_id, v.criterion_id) in keys]
    shown: list[int] = []
    for cited in sorted({quote.turn for v in verdicts for quote in v.evidence}):
        if not 0 <= cited < len(result.turns):
            continue
        if cited > 0 and result.turns[cited].role == "assistant":
            shown.append(cited - 1)
        shown.append(cited)
    return verdicts, list(dict.fromkeys(shown))


def pr_comment(report: CheckReport, run: RunRecord, *, report_url: str | None = None) -> str:
    """Markdown for one sticky PR comment (its first line marks it for updating in place)."""
    lines = [render_check_markdown(report, quotes=False).rstrip()]  # folds its own turns
    results = {result.id: result for result in run.score.transcripts}
    by_scenario: dict[str, list] = {}
    for change in report.changes:
        if change.blocking and change.scenario_id in results:
            by_scenario.setdefault(change.scenario_id, []).append(change)
    if by_scenario:
        lines += ["", f"**Failing turns** ({len(by_scenario)} scenarios)", ""]
    for scenario_id, changes in list(by_scenario.items())[:_MAX_FOLDED]:
        result = results[scenario_id]
        verdicts, shown = _cited_turns(result, {(c.rubric_id, c.criterion_id) for c in changes})
        names = ", ".join(c.criterion_id or CHANGE_TITLES[c.change] for c in changes)
        lines += [f"<details><summary>❌ {html.escape(f'{scenario_id}: {names}')}</summary>", ""]
        for verdict in verdicts:
            why = html.escape(" ".join(verdict.rationale.split()), quote=False)
            lines.append(f"- `{verdict.criterion_id}` ({verdict.severity}): {why}")
        quotes = [_quote(result.turns[n].role, n, result.turns[n].content) for n in shown]
        lines += ["", "\n>\n".join(quotes), "", "</details>", ""]
    if len(by_scenario) > _MAX_FOLDED:
        lines += [f"… and {len(by_scenario) - _MAX_FOLDED} more scenarios in the full report.", ""]
    link = f"[full HTML report]({report_url})" if report_url else "the full HTML report"
    lines += ["", f"Every transcript, verdict and user voice: {link}."]
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"
