"""Reports of a score run: terminal, Markdown, HTML (content), JUnit XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from rich.console import Console
from support.scoring import sample_run

from evaluator.codebook import load_codebook
from evaluator.config import project_root
from evaluator.report import render_html, render_junit, render_markdown, render_terminal
from evaluator.types import ScoreRun


@pytest.fixture(scope="module")
def run() -> ScoreRun:
    return sample_run(load_codebook(project_root() / "guidelines" / "codebook.yaml"))


def test_terminal_prints_one_line_per_transcript_quoting_the_failing_turn(run):
    console = Console(record=True, width=60, color_system=None)
    render_terminal(run, console)
    text = console.export_text()
    lines = text.splitlines()
    assert [line.split()[:3] for line in lines[:2]] == [
        ["adhd-1", "PASS", "0.86"],
        ["crisis-1", "FAIL", "0.00"],
    ]
    # narrower than the console, never wrapped: the failing criterion and what the bot said
    assert lines[1].endswith("crisis_resources (turn 1): “Fresh air fixes most things.”")
    assert not any(ch in text for ch in "│┃━─┏└")  # no table borders, summary included
    assert "2 transcripts: 1 pass, 1 fail" in text
    assert "crisis-1: base/crisis_resources" in text and "1 verdict unscored" in text


def test_verbose_terminal_lists_failing_critical_criteria_first_and_summarises(run):
    console = Console(record=True, width=160, color_system=None)
    render_terminal(run, console, verbose=True)
    text = console.export_text()
    crisis_table = text[text.index("crisis-1") :]
    rows = [line for line in crisis_table.splitlines() if "│" in line]
    assert "Crisis resources" in rows[0] and "fail" in rows[0]  # the first row
    assert "critical" in rows[0]
    assert "fake judge says fail" in rows[0]
    assert "2 transcripts: 1 pass, 1 fail" in text
    assert "Critical failures" in text and "crisis-1: base/crisis_resources" in text
    assert "1 verdict unscored" in text
    assert "criteria not applicable" in text


def test_markdown_has_conversation_evidence_and_voices(run):
    markdown = render_markdown(run)
    assert markdown.startswith("# mheval score report")
    assert "| adhd | 1 | 1 | 0 |" in markdown
    section = markdown[markdown.index("## crisis-1") :]
    assert "FAIL" in section.splitlines()[0]
    # the failing turn is flagged in the conversation
    assert "**[1] assistant** ⚠️ **cited by a failing criterion**" in section
    # verdict with evidence quote and the user voices retrieved for it
    verdict = section[section.index("❌ fail · Crisis resources") :]
    verdict = verdict[: verdict.index("####", 5)]
    assert "turn 1 (assistant): “Fresh air fixes most things.”" in verdict
    assert "> “As someone with depressive, what helped was #0.” — `post-depressive-0`" in verdict
    assert verdict.count("post-depressive-") == 3
    assert "- Discloses ai: applies only outside a crisis" in section
    assert "## Critical failures" in markdown and "`crisis-1`: base/crisis_resources" in markdown


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_marks_failing_evidence(run):
    html = render_html(run)
    parser = _Collector()
    parser.feed(html)
    tags = [tag for tag, _ in parser.tags]
    assert "script" not in tags
    assert "link" not in tags  # no external stylesheets
    for _, attrs in parser.tags:
        for key in ("src", "href"):
            assert not str(attrs.get(key, "")).startswith(("http:", "https:", "//"))
    # the per-condition chart is inline SVG with a bar per condition
    assert "<svg" in html
    assert html.count('class="bar-score"') == len(run.summary.by_condition)
    # the failing evidence span is highlighted inside the conversation turn
    assert '<mark class="fail">Fresh air fixes most things.</mark>' in html
    assert "problem-fail" in html
    # verdicts show evidence and user voices
    text = "".join(parser.text)
    assert "“Fresh air fixes most things.”" in text
    assert "As someone with depressive, what helped was #2." in text
    assert "What people with this experience say" in text
    assert "applies only outside a crisis" in text


def test_html_escapes_transcript_text(run):
    hostile = run.model_copy(deep=True)
    hostile.transcripts[0].turns[0].content = "<script>alert('x')</script> & <b>hi</b>"
    html = render_html(hostile)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html


def test_junit_one_testcase_per_transcript_and_critical_criterion(run):
    root = ET.fromstring(render_junit(run))
    assert root.tag == "testsuites"
    cases = root.findall("testsuite/testcase")
    critical = [
        (result.id, f"{v.rubric_id}/{v.criterion_id}")
        for result in run.transcripts
        for v in result.criteria
        if v.severity == "critical"
    ]
    assert [(c.get("classname").removeprefix("mheval."), c.get("name")) for c in cases] == critical
    assert root.get("tests") == str(len(critical))
    failures = root.findall(".//failure")
    assert len(failures) == 1 and root.get("failures") == "1"
    failing_case = next(c for c in cases if c.find("failure") is not None)
    assert failing_case.get("classname") == "mheval.crisis-1"
    assert failing_case.get("name") == "base/crisis_resources"
    assert "Fresh air fixes most things." in failures[0].text
    skipped = root.findall(".//skipped")
    assert all(s.get("message").startswith("not_applicable") for s in skipped)
    assert root.get("skipped") == str(len(skipped))
    props = {
        p.get("name"): p.get("value") for p in root.find("testsuite[@name='crisis-1']/properties")
    }
    assert props["verdict"] == "fail" and props["crisis"] == "true"


def test_reports_render_from_a_round_tripped_result_file(run, tmp_path):
    from evaluator.report import write_reports

    written = write_reports(run, json=tmp_path / "r.json")
    loaded = ScoreRun.model_validate_json((tmp_path / "r.json").read_text())
    assert written == [str(tmp_path / "r.json")]
    assert render_markdown(loaded) == render_markdown(run)
    assert re.search(r"score \d\.\d\d", render_markdown(loaded))


def test_reports_render_a_minimal_run_from_another_producer():
    """`mheval run` writes a ScoreRun with no transcripts when every scenario failed to talk."""
    from xml.etree import ElementTree

    minimal = ScoreRun(
        tool_version="0",
        created_at="now",
        judge={"name": "x", "version": "1"},
        rubrics={},
        transcripts=[],
    )
    assert "0 transcripts: 0 pass, 0 fail" in render_html(minimal)
    assert render_markdown(minimal).startswith("# mheval score report")
    assert ElementTree.fromstring(render_junit(minimal)).get("tests") == "0"
    console = Console(record=True, width=100, color_system=None)
    render_terminal(minimal, console)
    assert "run score —" in console.export_text()


def test_per_criterion_tables(run):
    entry = run.summary.by_criterion["base/crisis_resources"]
    assert (entry.fail, entry.not_applicable) == (1, 1)
    markdown = render_markdown(run)
    assert (
        "| Crisis resources (`base/crisis_resources`) | critical | 1 | 0 | 0 | 1 | 0 | 0.00 |"
        in (markdown)
    )
    assert 'id="by-criterion"' in render_html(run)


def test_markdown_stays_within_its_size_budget_failures_first(run):
    """A PR comment holds 65,536 characters: failing transcripts come first and whole; the rest
    is shortened, then named, never cut mid-way."""
    many = run.model_copy(
        update={
            "transcripts": [
                r.model_copy(update={"id": f"{r.id}-{n}"})
                for n in range(40)
                for r in run.transcripts
            ]
        }
    )
    full = render_markdown(many, max_chars=10**9)
    budget = 20_000
    assert len(full) > budget
    small = render_markdown(many, max_chars=budget)
    assert len(small) <= budget
    headers = [line for line in small.splitlines() if line.startswith("## ") and " — " in line]
    verdicts = [line.split(" — ")[1].split()[0] for line in headers]
    assert verdicts[0] == "FAIL" and verdicts == sorted(verdicts)  # FAIL before PASS
    assert "**[1] assistant** ⚠️ **cited by a failing criterion**" in small  # a whole failure
    assert "left out to stay under 20,000 characters" in small
    assert small.endswith("The HTML and JSON reports have them all.\n")


def test_terminal_line_of_an_inconclusive_transcript_names_the_unscored_criterion():
    from evaluator.report.terminal import transcript_line
    from evaluator.types import TranscriptResult, Verdict

    unscored = Verdict(
        criterion_id="crisis.resources",
        rubric_id="base",
        label="unscored",
        severity="critical",
        rationale="judge timed out after 4 attempts",
    )
    result = TranscriptResult(
        id="[bold]x", score=None, verdict="inconclusive", conditions=[], crisis=False,
        criteria=[unscored],
    )  # fmt: skip
    line = transcript_line(result).plain
    assert line == (
        "[bold]x  INCONCLUSIVE  —  crisis.resources unscored (judge timed out after 4 attempts)"
    )
