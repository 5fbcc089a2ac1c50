"""`mheval check` for CI: the pull-request comment (Markdown) and the JUnit XML of a
`CheckReport`; the gate that decides it is `evaluator.check`."""

from __future__ import annotations

import html

from evaluator.report.common import dimension_name, one_line
from evaluator.types import CheckReport

__all__ = ["CHANGE_TITLES", "render_check_junit", "render_check_markdown"]

#: How each kind of change is named in a comment, a JUnit message and the terminal.
CHANGE_TITLES = {
    "new_error": "scenario now errors",
    "new_failure": "new failure",
    "unscored": "could not be scored (inconclusive)",
    "unconfirmed_failure": "unconfirmed (judge noise)",
    "degraded": "pass → partial",
    "still_failing": "already failing in baseline",
    "improved": "improved",
    "fixed_error": "error fixed",
}


#: What a PR comment quotes of the bot's turn in a blocking regression.
QUOTE_CHARS = 200


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _cell(text: str | None, limit: int = 160) -> str:
    return one_line((text or "").replace("|", "\\|"), limit)


def render_check_markdown(
    report: CheckReport,
    *,
    run_label: str = "",
    baseline_label: str = "",
    max_rows: int = 150,
    quotes: bool = True,
    max_chars: int = 60_000,
) -> str:
    """A PR comment: verdict and reasons first, then per-condition scores, then the changes
    (blocking ones first, improvements last), then (`quotes`) what the bot said in each blocking
    regression, its evidence quote folded in `<details>`. Every blocking change is listed; other
    rows stop at `max_rows` and quotes stop before the comment passes `max_chars`, so it stays
    within GitHub's size limit (65,536 characters)."""
    lines = [
        "<!-- mheval-check -->",
        f"## mheval check: {'✅ passed' if report.passed else '❌ failed'}",
        "",
        f"Overall score {_fmt(report.overall_before)} → **{_fmt(report.overall_after)}**"
        f" (max drop per condition {report.max_drop:.3f}"
        + (f", fail under {report.fail_under:.3f}" if report.fail_under is not None else "")
        + (f", samples {report.samples}" if report.samples > 1 else "")
        + ")",
    ]
    if run_label or baseline_label:
        lines += ["", f"Run `{run_label}` against baseline `{baseline_label}`."]
    if report.reasons:
        lines += ["", "**Why it failed**", ""] + [f"- {_cell(r, 300)}" for r in report.reasons]
    lines += _condition_rows(report) + _quality_rows(report) + _change_rows(report, max_rows)
    if quotes:
        lines += _quoted_regressions(report, max_chars - sum(len(line) + 1 for line in lines))
    if report.warnings:
        lines += ["", "<details><summary>Warnings</summary>", ""]
        lines += [f"- {_cell(w, 300)}" for w in report.warnings]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def _condition_rows(report: CheckReport) -> list[str]:
    """The per-condition score table (empty when no condition was compared)."""
    if not report.conditions:
        return []
    lines = ["", "| condition | scenarios | baseline | now | drop |", "|---|---:|---:|---:|---:|"]
    for c in report.conditions:
        drop = _fmt(c.drop) + (" ❌" if c.blocking else "")
        lines.append(
            f"| {c.condition} | {c.scenarios} | {_fmt(c.before)} | {_fmt(c.after)} | {drop} |"
        )
    return lines


def _quality_rows(report: CheckReport) -> list[str]:
    """The per-dimension quality table (empty when no dimension was graded)."""
    if not report.quality:
        return []
    lines = [
        "",
        "| quality dimension | scenarios | baseline | now | drop |",
        "|---|---:|---:|---:|---:|",
    ]
    for q in report.quality:
        flag = " ❌" if q.blocking else (" ⚠️" if (q.drop or 0) > report.max_drop else "")
        lines.append(
            f"| {dimension_name(q.dimension)} | {q.scenarios} | {_fmt(q.before)} | "
            f"{_fmt(q.after)} | {_fmt(q.drop)}{flag} |"
        )
    return lines


def _change_rows(report: CheckReport, max_rows: int) -> list[str]:
    """The changes table: every blocking change, then the others up to `max_rows`."""
    if not report.changes:
        return ["", "No criterion changed."]
    lines = [
        "",
        "| | scenario | criterion | change | before → now | why |",
        "|---|---|---|---|---|---|",
    ]
    shown = [c for c in report.changes if c.blocking]
    shown += [c for c in report.changes if not c.blocking][: max(0, max_rows - len(shown))]
    for c in shown:
        mark = "❌" if c.blocking else ("✅" if c.change in ("improved", "fixed_error") else "·")
        criterion = f"{c.rubric_id}/{c.criterion_id}" if c.criterion_id else "—"
        if c.severity == "critical":
            criterion += " (critical)"
        lines.append(
            f"| {mark} | {c.scenario_id} | {criterion} | {CHANGE_TITLES[c.change]} | "
            f"{c.before or '—'} → {c.after or '—'} | {_cell(c.rationale)} |"
        )
    hidden = len(report.changes) - len(shown)
    if hidden:
        lines += [
            "",
            f"… and {hidden} more non-blocking change(s): see `mheval check --json` or the "
            "JUnit report.",
        ]
    return lines


def _quoted_regressions(report: CheckReport, budget: int) -> list[str]:
    """What the bot said in each blocking regression: its evidence quote, cut to `QUOTE_CHARS`,
    folded in `<details>`, one fold per scenario and quote (naming every criterion that cites it).
    Folds stop before `budget` characters, saying how many were left out."""
    groups: dict[tuple[str, int, str], list[str]] = {}
    for change in report.changes:
        if change.blocking and change.evidence is not None:
            key = (change.scenario_id, change.evidence.turn, change.evidence.quote)
            groups.setdefault(key, []).append(change.criterion_id or change.change)
    if not groups:
        return []
    lines = ["", "**What the bot said** in the blocking regressions", ""]
    used = sum(len(line) + 1 for line in lines) + 200  # room for the "… more" line
    for index, ((scenario_id, turn, quote), names) in enumerate(groups.items()):
        summary = f"❌ {scenario_id}: {', '.join(names)} (turn {turn})"
        fold = [
            f"<details><summary>{html.escape(summary)}</summary>",
            "",
            f"> {html.escape(one_line(quote, QUOTE_CHARS), quote=False)}",
            "",
            "</details>",
        ]
        size = sum(len(line) + 1 for line in fold)
        if used + size > budget:
            lines += ["", f"… and {len(groups) - index} more quote(s): see `mheval --json check`."]
            break
        lines += fold
        used += size
    return lines


def render_check_junit(report: CheckReport) -> str:
    """JUnit XML: a testcase per change and per condition; blocking ones are failures, so a CI
    test-report view shows exactly what gated the pull request."""
    import xml.etree.ElementTree as ET

    suites = ET.Element("testsuites", name="mheval check")
    suite = ET.SubElement(suites, "testsuite", name="mheval check")
    failures = 0
    cases = 0
    for c in report.conditions:
        cases += 1
        case = ET.SubElement(
            suite, "testcase", classname="mheval.check.conditions", name=c.condition, time="0"
        )
        if c.blocking:
            failures += 1
            ET.SubElement(
                case,
                "failure",
                type="score_drop",
                message=f"score {_fmt(c.before)} -> {_fmt(c.after)} (drop {_fmt(c.drop)} > "
                f"{report.max_drop:.3f})",
            )
    for c in report.changes:
        cases += 1
        name = f"{c.rubric_id}/{c.criterion_id}" if c.criterion_id else "conversation"
        case = ET.SubElement(
            suite, "testcase", classname=f"mheval.check.{c.scenario_id}", name=name, time="0"
        )
        message = f"{CHANGE_TITLES[c.change]}: {c.before or '-'} -> {c.after or '-'}"
        if c.blocking:
            failures += 1
            failure = ET.SubElement(case, "failure", type=c.change, message=message)
            failure.text = c.rationale
        elif c.change not in ("improved", "fixed_error"):
            ET.SubElement(case, "system-out").text = f"{message}: {c.rationale}"
    if report.fail_under is not None:
        cases += 1
        case = ET.SubElement(
            suite, "testcase", classname="mheval.check", name="fail_under", time="0"
        )
        if report.overall_after is None or report.overall_after < report.fail_under:
            failures += 1
            ET.SubElement(
                case,
                "failure",
                type="fail_under",
                message=f"overall {_fmt(report.overall_after)} < {report.fail_under:.3f}",
            )
    for element in (suite, suites):
        element.set("tests", str(cases))
        element.set("failures", str(failures))
        element.set("errors", "0")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
