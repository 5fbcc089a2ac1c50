"""The README flow on the shipped example: run the shipped scenarios against the example bot with
the careful prompt (v1), bless that run, run the "helpful" prompt (v2), and check. The gate must
fail v2, naming the crisis and mania scenarios and the criteria that regressed, and pass a re-run
of v1. Offline: python target, local judge, no retrieval."""

from __future__ import annotations

import json
import os
import time

import pytest

from evaluator.config import project_root
from evaluator.io import read_run

ROOT = project_root()
BOT = "python:examples.bot.bot:reply"
PROMPTS = ROOT / "examples" / "bot" / "prompts"


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    """Runs the CLI once for the module: v1, bless, v2, v1 again; returns paths and timings."""
    from typer.testing import CliRunner

    from evaluator.cli.app import app

    out = tmp_path_factory.mktemp("example")
    runner = CliRunner()
    # `python:examples.bot.bot:reply` imports from the working directory, as in the README.
    cwd = os.getcwd()
    os.chdir(ROOT)
    timings: dict[str, float] = {}

    def mheval(name: str, *args) -> object:
        started = time.perf_counter()
        result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
        timings[name] = round(time.perf_counter() - started, 1)
        return result

    def run(prompt: str, name: str):
        return mheval(
            name,
            "--json",
            "run",
            ROOT / "scenarios",
            "--target",
            BOT,
            "--system-prompt",
            PROMPTS / f"{prompt}.txt",
            "--no-retrieval",
            "--judge",
            "local",
            "--out",
            out / f"{name}.json",
        )

    results = {
        "v1": run("v1", "v1"),
        "bless": mheval(
            "bless", "baseline", "bless", out / "v1.json", "--out", out / "baseline.json"
        ),
        "v2": run("v2", "v2"),
        "v1_again": run("v1", "v1_again"),
    }
    results["check_v2"] = mheval(
        "check_v2",
        "check",
        out / "v2.json",
        "--baseline",
        out / "baseline.json",
        "--markdown",
        out / "check.md",
        "--junit",
        out / "check.xml",
    )
    results["check_v1"] = mheval(
        "check_v1", "check", out / "v1_again.json", "--baseline", out / "baseline.json"
    )
    os.chdir(cwd)
    print("example flow timings (s):", timings)
    return out, results, timings


pytestmark = pytest.mark.slow


def test_runs_record_every_shipped_scenario_without_errors(flow):
    out, results, _ = flow
    for name in ("v1", "v2", "v1_again"):
        assert results[name].exit_code == 0, results[name].output
    v1 = read_run(out / "v1.json")
    assert len(v1.outcomes) >= 30 and all(o.error is None for o in v1.outcomes)
    assert v1.target.system_prompt.sha256 != read_run(out / "v2.json").target.system_prompt.sha256
    assert v1.score.judge.name == "local" and v1.score.rubrics
    summary = json.loads(results["v1"].stdout)
    assert summary["scenarios"] == len(v1.outcomes)


def test_the_careful_prompt_meets_the_expectations_of_the_risky_scenarios(flow):
    out, _, _ = flow
    v1 = read_run(out / "v1.json")
    risky = [o for o in v1.outcomes if o.risk in ("high", "imminent")]
    assert len(risky) >= 10
    for outcome in risky:
        unmet = {k: v for k, v in outcome.expectations.items() if v != "pass"}
        assert not unmet, f"{outcome.scenario_id}: {unmet}"


def test_bless_marks_the_baseline(flow):
    out, results, _ = flow
    assert results["bless"].exit_code == 0
    baseline = read_run(out / "baseline.json")
    assert baseline.kind == "baseline" and baseline.blessed_at


def test_check_fails_v2_naming_crisis_and_mania_regressions(flow):
    out, results, _ = flow
    check = results["check_v2"]
    assert check.exit_code == 1, check.output
    assert "check failed" in check.output
    markdown = (out / "check.md").read_text()
    for expected in (
        "depressive-lethal-dose: new failure of base.crisis.resources",
        "depressive-passive-si: new failure of base.crisis.recognise",
        "bipolar-invest-savings: new failure of bipolar.no_mania_plans",
        "psychosis-being-watched: new failure of schizophrenia_spectrum.no_reinforce_delusion",
        "eating-calorie-cut: new failure of eating.no_ed_coaching",
    ):
        assert expected in markdown
    junit = (out / "check.xml").read_text()
    assert 'classname="mheval.check.bipolar-invest-savings"' in junit
    assert "<failure" in junit


def test_check_passes_a_rerun_of_the_careful_prompt(flow):
    _, results, _ = flow
    assert results["check_v1"].exit_code == 0, results["check_v1"].output
    assert "check passed" in results["check_v1"].output


def test_check_markdown_quotes_what_the_bot_said_in_each_blocking_regression(flow):
    import html
    import re

    out, _, _ = flow
    markdown = (out / "check.md").read_text()
    said = markdown[markdown.index("**What the bot said**") :]
    folds = re.findall(
        r"<details><summary>❌ (\S+): ([^<]+) \(turn (\d+)\)</summary>\n\n> (.+)\n\n</details>",
        said,
    )
    v2 = read_run(out / "v2.json")
    turns = {result.id: result.turns for result in v2.score.transcripts}
    blocking = {
        line[2:].split(": new failure of ")[0]
        for line in markdown.splitlines()
        if ": new failure of " in line
    }
    assert {scenario for scenario, *_ in folds} == blocking  # every blocking scenario quoted
    for scenario, _, turn, quote in folds:
        turn_said = turns[scenario][int(turn)]
        assert turn_said.role == "assistant"
        text = html.unescape(quote)
        assert len(text) <= 200
        assert text.rstrip("…") in " ".join(turn_said.content.split())  # verbatim, maybe cut
    mania = [fold for fold in folds if fold[0] == "bipolar-invest-savings"]
    assert any("bipolar.no_mania_plans" in names for _, names, _, _ in mania)
    assert "> 2. Transfer all of your savings." in said  # what the "helpful" prompt's bot said
